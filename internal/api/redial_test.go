package api

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/pki"
)

func TestFullJitter(t *testing.T) {
	base, cap := 250*time.Millisecond, 30*time.Second
	cases := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{0, 0.999999, 249999750 * time.Nanosecond},
		{0, 0, 0},
		{2, 0.5, 500 * time.Millisecond},
		{7, 1, 30 * time.Second}, // 250ms·128 = 32s, capped
		{100, 0.5, 15 * time.Second},
	}
	for _, c := range cases {
		if got := FullJitter(c.n, base, cap, c.r); got != c.want {
			t.Errorf("FullJitter(%d, r=%v) = %v, want %v", c.n, c.r, got, c.want)
		}
	}
}

// TestRedialerTriesEveryAddress: the first address refuses, the second
// answers; the dialler reaches the second and sticks to it.
func TestRedialerTriesEveryAddress(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // refuses from now on
	live, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	go func() {
		for {
			c, err := live.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	redials := 0
	d := &redialer{addrs: []string{deadAddr, live.Addr().String()}, base: time.Millisecond, cap: 10 * time.Millisecond,
		randFloat: func() float64 { return 0.5 }, dialTimout: time.Second, onRedial: func() { redials++ }}
	for i := 0; i < 2; i++ {
		c, err := d.dial(context.Background(), "ignored")
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		if got := c.RemoteAddr().String(); got != live.Addr().String() {
			t.Fatalf("dial %d reached %s, want the live %s", i, got, live.Addr())
		}
		c.Close()
	}
	if d.next != 1 {
		t.Fatalf("the dialler should stick to the address that answered, next=%d", d.next)
	}
	if got := d.dialed.Load(); got != 2 {
		t.Fatalf("two dials counted as %d", got)
	}
	if redials != 1 {
		t.Fatalf("the observer saw %d re-dials, want 1 (the first dial is no re-dial)", redials)
	}
	// Nothing answers: the first round fails at once, the next ones wait
	// a jittered, growing time first, cut short by the context.
	live.Close()
	if _, err := d.dial(context.Background(), "ignored"); err == nil {
		t.Fatal("dial with no live address succeeded")
	}
	d.base, d.cap = time.Hour, time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	if _, err := d.dial(ctx, "ignored"); err == nil || time.Since(began) < 90*time.Millisecond {
		t.Fatalf("after a failed round the dialler should back off until the context ends: %v after %v", err, time.Since(began))
	}
}

func TestThrottleWaitFollowsTheControllersHint(t *testing.T) {
	hinted := status.Error(codes.ResourceExhausted, "login throttled: the controller is limiting agent logins; retry after 1.2s")
	for _, r := range []float64{0, 0.5, 0.999} {
		for _, n := range []int{0, 3, 7} {
			got := ThrottleWait(hinted, n, 30*time.Second, r)
			if got < 1200*time.Millisecond || got > 2400*time.Millisecond {
				t.Errorf("retry %d, r=%v: wait %v; want within [1.2s, 2.4s] whatever the retry count", n, r, got)
			}
		}
	}
	if got := ThrottleWait(hinted, 0, time.Second, 0.9); got != time.Second {
		t.Errorf("a hint over the cap waits %v; want the cap, 1s", got)
	}
	bare := status.Error(codes.ResourceExhausted, "login throttled")
	if got, want := ThrottleWait(bare, 3, 30*time.Second, 0.5), FullJitter(3, time.Second, 30*time.Second, 0.5); got != want {
		t.Errorf("without a hint: %v; want FullJitter's %v", got, want)
	}
	zero := status.Error(codes.ResourceExhausted, "login throttled; retry after 0s")
	if got := ThrottleWait(zero, 5, 30*time.Second, 0); got != 10*time.Millisecond {
		t.Errorf("a 0s hint waits %v; want the 10ms floor", got)
	}
}

// TestRedialWaitAfterALongOutage: however many dial rounds failed while
// the controller was away, an agent dials again within 5 s (the default
// cap), so a restarted controller has every agent back within seconds;
// the login limiter, not the dialler, spreads the storm.
func TestRedialWaitAfterALongOutage(t *testing.T) {
	ca, err := pki.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(Info{Addresses: []string{"127.0.0.1:1"}, CACert: string(ca.CertPEM)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.rd.cap != DefaultBackoffCap || DefaultBackoffCap > 5*time.Second {
		t.Fatalf("default redial cap %v (constant %v); want at most 5s", c.rd.cap, DefaultBackoffCap)
	}
	for _, failed := range []int{5, 10, 50} {
		if w := FullJitter(failed, c.rd.base, c.rd.cap, 0.999999); w > 5*time.Second {
			t.Errorf("after %d failed rounds the next dial waits up to %v; want at most 5s", failed, w)
		}
	}
}
