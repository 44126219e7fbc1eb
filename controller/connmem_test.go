package controller_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
)

// TestMemoryPerIdleConnection: every agent holds its API connection for
// ever, mostly idle, so what one costs the controller is most of the
// controller's memory per unit. Client and server both live in this
// process here; the heap grown per connected, logged-in, idle connection
// (both ends, after a GC) must stay under 100 KB. With gRPC's default
// per-connection buffers (32 KB read + 32 KB write, at each end) it was
// about 135 KB; without them about 80 KB. An agent sharing a transport
// (api.Pool, as a machine agent's unit agents do) must cost a fraction
// of that.
func TestMemoryPerIdleConnection(t *testing.T) {
	info := startController(t)
	const conns = 100
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	open := make([]*api.Conn, 0, conns)
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	call := func(c *api.Conn) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := c.ControllerInfo(ctx, &apipb.ControllerInfoRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ { // warm: pools, caches and first-use allocations
		c, err := api.Dial(info)
		if err != nil {
			t.Fatal(err)
		}
		call(c)
		open = append(open, c)
	}
	before := heap()
	for i := 0; i < conns; i++ {
		c, err := api.Dial(info)
		if err != nil {
			t.Fatal(err)
		}
		call(c)
		open = append(open, c)
	}
	grown := int64(heap()) - int64(before)
	perConn := grown / conns
	t.Logf("heap grown by %d KB for %d idle connections: %d KB each (client and server ends)", grown>>10, conns, perConn>>10)
	if perConn > 100<<10 {
		t.Errorf("an idle API connection costs %d KB of heap (both ends); want at most 100 KB", perConn>>10)
	}

	// The agents of a machine agent's process share one transport
	// (api.Pool): each more agent costs a Conn, not a connection.
	pool := api.NewPool()
	first, err := pool.Dial(info)
	if err != nil {
		t.Fatal(err)
	}
	call(first)
	open = append(open, first)
	before = heap()
	for i := 0; i < conns; i++ {
		c, err := pool.Dial(info)
		if err != nil {
			t.Fatal(err)
		}
		call(c)
		open = append(open, c)
	}
	pooled := (int64(heap()) - int64(before)) / conns
	t.Logf("pooled: %d B per more agent on a shared transport (both ends), against %d KB per connection", pooled, perConn>>10)
	if pooled > perConn/4 {
		t.Errorf("an agent on a shared transport costs %d B of heap; want at most a quarter of a connection's %d B", pooled, perConn)
	}
}
