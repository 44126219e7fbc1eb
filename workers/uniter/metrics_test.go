package uniter

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/clocktest"
)

type hookRun struct {
	hook   string
	failed bool
}

type recordedMetrics struct {
	mu      sync.Mutex
	runs    []hookRun
	outbox  int // OutboxState calls
	pending int // the last pending count reported
}

func (r *recordedMetrics) HookRan(hook string, took time.Duration, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if took <= 0 {
		panic("a hook that ran took no time")
	}
	r.runs = append(r.runs, hookRun{hook, failed})
}

func (r *recordedMetrics) OutboxState(pending int, oldest time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outbox++
	r.pending = pending
}

// TestMetricsSeeEveryHookRun drives the real uniter loop: the failing
// install, its successful retry and the hooks after it are each reported
// once with their outcome, and the outbox is reported.
func TestMetricsSeeEveryHookRun(t *testing.T) {
	rec := &recordedMetrics{}
	h := startWith(t, true, rec)
	h.next("status:error")
	h.settle()
	must(t, os.Remove(filepath.Join(h.dir, "fail-install")))
	ts := h.waitTimers("retry timer", func(ts []clocktest.Timer) bool { return len(retryTimers(ts)) == 1 })
	h.clock.Advance(retryTimers(ts)[0].Requested)
	h.waitLedger("start after the retried install", endsWith("start"))

	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []hookRun{{"install", true}, {"install", false}, {"leader-elected", false}, {"config-changed", false}, {"start", false}}
	if !slices.Equal(rec.runs, want) {
		t.Errorf("hook runs reported %v, want %v", rec.runs, want)
	}
	if rec.outbox < len(want) || rec.pending != 0 {
		t.Errorf("outbox reported %d times (last pending %d), want at least once per hook and an empty outbox", rec.outbox, rec.pending)
	}
}
