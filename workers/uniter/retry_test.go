package uniter

import (
	"strings"

	"github.com/troupe-dev/troupe/internal/sockpath"
	"testing"
	"time"
)

func TestRetryDelayGrowsAndCaps(t *testing.T) {
	want := []time.Duration{5, 10, 20, 40, 80, 160, 300, 300}
	for i, w := range want {
		upper := w * time.Second
		if got := RetryDelay(i, 0.999999); got > upper || got < upper-time.Second {
			t.Errorf("attempt %d, max jitter: got %s, want just under %s", i, got, upper)
		}
		if got := RetryDelay(i, 0); got != upper/2 {
			t.Errorf("attempt %d, no jitter: got %s, want %s", i, got, upper/2)
		}
	}
}

func TestRetrierSchedulesOnlyInError(t *testing.T) {
	var r retrier
	r.track(false)
	if r.C() != nil {
		t.Fatal("retry scheduled while not in error")
	}
	r.track(true)
	if r.C() == nil {
		t.Fatal("no retry scheduled in error")
	}
	r.fired()
	if r.version != 1 || r.attempt != 1 || r.C() != nil {
		t.Fatalf("after firing: %+v", r)
	}
	r.track(true) // next, longer delay
	r.track(false)
	if r.attempt != 0 || r.C() != nil {
		t.Fatalf("leaving error must reset: %+v", r)
	}
}

func TestSocketPathFitsUnixLimit(t *testing.T) {
	short := "/var/lib/troupe/agents/unit-a-0"
	if got := SocketPath(short); got != short+"/agent.socket" {
		t.Errorf("short dir: got %s", got)
	}
	long := "/tmp/" + strings.Repeat("x", 120) + "/agents/unit-a-0"
	got, other := SocketPath(long), SocketPath(long+"1")
	if len(got) > sockpath.Max || got == other {
		t.Errorf("long dir: got %q (len %d), distinct from sibling: %v", got, len(got), got != other)
	}
}
