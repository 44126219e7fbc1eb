package uniter

import (
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/clocktest"
	"github.com/troupe-dev/troupe/internal/sockpath"
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

func TestRetrierSchedulesOnlyInErrorAndWhenEnabled(t *testing.T) {
	clk := clocktest.New(time.Unix(0, 0))
	r := retrier{clock: clk, strategy: DefaultRetryStrategy}
	r.track(false, true)
	if r.C() != nil {
		t.Fatal("retry scheduled while not in error")
	}
	r.track(true, false)
	if r.C() != nil {
		t.Fatal("retry scheduled with automatic retries off")
	}
	r.track(true, true)
	if r.C() == nil {
		t.Fatal("no retry scheduled in error")
	}
	r.track(true, false)
	if r.C() != nil || len(clk.Timers()) != 0 {
		t.Fatalf("disabling must stop the timer: %v", clk.Timers())
	}
	r.track(true, true)
	clk.Advance(5 * time.Second)
	select {
	case <-r.C():
	default:
		t.Fatal("first retry did not fire within 5s")
	}
	r.fired()
	if r.version != 1 || r.attempt != 1 || r.C() != nil {
		t.Fatalf("after firing: %+v", r)
	}
	r.track(true, true) // next, longer delay
	if ts := clk.Timers(); len(ts) != 1 || ts[0].Requested < 5*time.Second || ts[0].Requested >= 10*time.Second {
		t.Fatalf("second attempt: %v, want one timer in [5s,10s)", ts)
	}
	r.track(false, true)
	if r.attempt != 0 || r.C() != nil || len(clk.Timers()) != 0 {
		t.Fatalf("leaving error must reset: %+v", r)
	}
}

func TestUpdateStatusJitterBounds(t *testing.T) {
	for _, j := range []float64{0, 0.5, 0.999999} {
		got := UpdateStatusJitter(5*time.Minute, j)
		if got < 4*time.Minute || got > 6*time.Minute {
			t.Errorf("jitter %v: %s outside 5m ±20%%", j, got)
		}
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

func TestRetryStrategy(t *testing.T) {
	fixed := RetryStrategy{Min: time.Second, Max: 4 * time.Second, Factor: 3}
	for attempt, want := range []time.Duration{time.Second, 3 * time.Second, 4 * time.Second, 4 * time.Second} {
		if got := fixed.Delay(attempt, 0.5); got != want {
			t.Errorf("attempt %d without jitter: %s, want %s", attempt, got, want)
		}
	}
	for _, bad := range []RetryStrategy{{}, {Min: time.Second, Max: time.Millisecond, Factor: 2}, {Min: time.Second, Max: time.Second}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := DefaultRetryStrategy.Validate(); err != nil {
		t.Error(err)
	}
}
