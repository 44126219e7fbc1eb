package agentmetrics_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/juju/clock"
	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"
	dto "github.com/prometheus/client_model/go"

	"github.com/troupe-dev/troupe/internal/agentmetrics"
	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/internal/machinelock"
)

func family(t *testing.T, m *agentmetrics.Machine, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// value is the counter or gauge value (a histogram's sample count) of the
// series of name with exactly labels; -1 when there is none.
func value(t *testing.T, m *agentmetrics.Machine, name string, labels map[string]string) float64 {
	t.Helper()
next:
	for _, mt := range family(t, m, name).GetMetric() {
		if len(mt.GetLabel()) != len(labels) {
			continue
		}
		for _, lp := range mt.GetLabel() {
			if labels[lp.GetName()] != lp.GetValue() {
				continue next
			}
		}
		switch {
		case mt.Counter != nil:
			return mt.GetCounter().GetValue()
		case mt.Gauge != nil:
			return mt.GetGauge().GetValue()
		case mt.Histogram != nil:
			return float64(mt.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

func TestHookRuns(t *testing.T) {
	m := agentmetrics.New(nil)
	a, b := m.ForUnit("hello/0"), m.ForUnit("hello/1")
	a.HookRan("install", 2*time.Second, false)
	b.HookRan("install", time.Second, false)
	b.HookRan("config-changed", time.Second, true)
	var none *agentmetrics.Unit
	none.HookRan("install", time.Second, true) // nil view: ignored
	if got := value(t, m, agentmetrics.HookRuns, map[string]string{"hook": "install"}); got != 2 {
		t.Errorf("install runs = %v, want 2", got)
	}
	if got := value(t, m, agentmetrics.HookFailures, map[string]string{"hook": "config-changed"}); got != 1 {
		t.Errorf("config-changed failures = %v, want 1", got)
	}
	if got := value(t, m, agentmetrics.HookFailures, map[string]string{"hook": "install"}); got != -1 {
		t.Errorf("install failures = %v, want no series", got)
	}
	h := family(t, m, agentmetrics.HookDuration).GetMetric()
	var sum float64
	for _, mt := range h {
		sum += mt.GetHistogram().GetSampleSum()
	}
	if sum != 4 {
		t.Errorf("hook duration sum = %v s, want 4", sum)
	}
}

// TestOutbox: depth and age per unit; age is measured at scrape time on
// the injected clock; a closed unit's series go away.
func TestOutbox(t *testing.T) {
	now := time.Unix(1000, 0)
	m := agentmetrics.New(func() time.Time { return now })
	u := m.ForUnit("hello/0")
	u.OutboxState(3, time.Unix(990, 0))
	m.ForUnit("hello/1").OutboxState(0, time.Time{})
	if got := value(t, m, agentmetrics.OutboxPending, map[string]string{"unit": "hello/0"}); got != 3 {
		t.Errorf("pending = %v, want 3", got)
	}
	if got := value(t, m, agentmetrics.OutboxAge, map[string]string{"unit": "hello/0"}); got != 10 {
		t.Errorf("age = %v, want 10", got)
	}
	now = now.Add(5 * time.Second)
	if got := value(t, m, agentmetrics.OutboxAge, map[string]string{"unit": "hello/0"}); got != 15 {
		t.Errorf("age 5s later = %v, want 15", got)
	}
	if got := value(t, m, agentmetrics.OutboxAge, map[string]string{"unit": "hello/1"}); got != 0 {
		t.Errorf("empty outbox age = %v, want 0", got)
	}
	u.Close()
	if got := value(t, m, agentmetrics.OutboxPending, map[string]string{"unit": "hello/0"}); got != -1 {
		t.Errorf("closed unit still reported: %v", got)
	}
}

func TestOldestAge(t *testing.T) {
	t0 := time.Unix(100, 0)
	for _, c := range []struct {
		pending int
		oldest  time.Time
		want    time.Duration
	}{
		{0, t0, 0}, {2, time.Time{}, 0}, {2, t0.Add(time.Second), 0}, {1, t0.Add(-3 * time.Second), 3 * time.Second},
	} {
		if got := agentmetrics.OldestAge(c.pending, c.oldest, t0); got != c.want {
			t.Errorf("OldestAge(%d, %v) = %s, want %s", c.pending, c.oldest, got, c.want)
		}
	}
}

// TestMachineLockObserver drives a real machine lock.
func TestMachineLockObserver(t *testing.T) {
	m := agentmetrics.New(nil)
	dir := t.TempDir()
	l := &machinelock.Lock{Path: filepath.Join(dir, "lock"), Observer: m}
	for range 3 {
		release, err := l.Acquire(context.Background(), "unit-hello-0", "test")
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	if got := value(t, m, agentmetrics.LockWait, nil); got != 3 {
		t.Errorf("lock wait samples = %v, want 3", got)
	}
	if got := value(t, m, agentmetrics.LockHold, nil); got != 3 {
		t.Errorf("lock hold samples = %v, want 3", got)
	}
}

// TestEngineRestarts reads a real dependency engine whose api-caller
// worker fails once: one restart of it and of its dependent, counted as a
// reconnect.
func TestEngineRestarts(t *testing.T) {
	eng, err := dependency.NewEngine(dependency.EngineConfig{
		IsFatal: func(error) bool { return false }, WorstError: func(a, b error) error { return a },
		ErrorDelay: time.Millisecond, BounceDelay: time.Millisecond, BackoffFactor: 1, MaxDelay: time.Millisecond,
		Clock: clockWall(), Metrics: dependency.DefaultMetrics(), Logger: engine.Logger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { eng.Kill(); eng.Wait() }()
	var failed atomic.Bool
	install := func(name string, inputs []string, fail bool) {
		err := eng.Install(name, dependency.Manifold{Inputs: inputs, Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
			for _, in := range inputs {
				if err := g.Get(in, nil); err != nil {
					return nil, err
				}
			}
			return engine.Func(func(ctx context.Context) error {
				if fail && failed.CompareAndSwap(false, true) {
					return errors.New("connection lost")
				}
				<-ctx.Done()
				return nil
			}), nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	install(agentmetrics.APICallerManifold, nil, true)
	install("uniter", []string{agentmetrics.APICallerManifold}, false)
	m := agentmetrics.New(nil)
	m.SetEngineReports(func() map[string]map[string]any {
		return map[string]map[string]any{"machine": eng.Report(), "hello/0": eng.Report()}
	})
	// Wait (no time bound asserted) until the failed worker was started
	// again.
	for agentmetrics.StartCounts(eng.Report())[agentmetrics.APICallerManifold] < 2 {
		time.Sleep(time.Millisecond)
	}
	if got := value(t, m, agentmetrics.WorkerRestarts, map[string]string{"agent": "machine", "manifold": agentmetrics.APICallerManifold}); got != 1 {
		t.Errorf("api-caller restarts = %v, want 1", got)
	}
	if got := value(t, m, agentmetrics.APIReconnects, map[string]string{"agent": "hello/0"}); got != 1 {
		t.Errorf("reconnects = %v, want 1", got)
	}
	if got := value(t, m, agentmetrics.WorkerStarts, map[string]string{"agent": "machine", "manifold": agentmetrics.APICallerManifold}); got != 2 {
		t.Errorf("api-caller starts = %v, want 2", got)
	}
	if got := value(t, m, agentmetrics.UnitAgents, nil); got != 1 {
		t.Errorf("unit agents = %v, want 1", got)
	}
}

func clockWall() clock.Clock { return clock.WallClock }
