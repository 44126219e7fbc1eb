package unitagent_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"

	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/unitagent"
	"github.com/troupe-dev/troupe/workers/pebble"
)

// faultyQueue is the real workload-events worker run inside an
// engine.Func loop that fails when told (fault runs in the loop).
type faultyQueue struct {
	worker.Worker
	q *pebble.Queue
}

// injectFault replaces the manifold's start with one that starts the
// real worker and keeps it for as long as a loop that returns (or
// panics with) the next fault read from faults.
func injectFault(m dependency.Manifold, faults <-chan func() error) dependency.Manifold {
	orig := m
	m.Start = func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
		w, err := orig.Start(ctx, g)
		if err != nil {
			return nil, err
		}
		var q *pebble.Queue
		if err := orig.Output(w, &q); err != nil {
			w.Kill()
			return nil, errors.Join(err, w.Wait())
		}
		return &faultyQueue{q: q, Worker: engine.Func(func(ctx context.Context) error {
			defer func() { w.Kill(); _ = w.Wait() }()
			select {
			case fault := <-faults:
				return fault()
			case <-ctx.Done():
				return nil
			}
		})}, nil
	}
	m.Output = func(in worker.Worker, out any) error {
		f, ok := in.(*faultyQueue)
		if !ok {
			return fmt.Errorf("expected *faultyQueue, got %T", in)
		}
		p, ok := out.(**pebble.Queue)
		if !ok {
			return fmt.Errorf("expected **pebble.Queue output, got %T", out)
		}
		*p = f.q
		return nil
	}
	return m
}

func manifoldReport(e *dependency.Engine, name string) (starts int, state string) {
	ms, _ := e.Report()["manifolds"].(map[string]any)
	m, _ := ms[name].(map[string]any)
	starts, _ = m["start-count"].(int)
	state, _ = m["state"].(string)
	return starts, state
}

// TestWorkerFaultRestartsItAndDependents runs the unit agent's real
// manifolds in a real engine (no controller: the agent's own manifold
// keeps failing on a missing agent.conf, so the API side never starts)
// with a fault injected into the workload-events worker: when its
// running loop fails, and then when it panics, it is started again and
// so is the pebble worker that depends on it, and the engine keeps
// running.
func TestWorkerFaultRestartsItAndDependents(t *testing.T) {
	dir := t.TempDir()
	ms := unitagent.Manifolds(unitagent.Config{Dir: dir, Pebble: filepath.Join(dir, "no-pebble-binary")})
	faults := make(chan func() error)
	ms[unitagent.WorkloadEventsName] = injectFault(ms[unitagent.WorkloadEventsName], faults)

	e, err := engine.NewWithPolicy(slog.New(slog.DiscardHandler), engine.Policy{
		ErrorDelay: 20 * time.Millisecond, BounceDelay: time.Millisecond,
		BackoffFactor: 2, BackoffResetTime: time.Minute, MaxDelay: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Kill()
		if err := e.Wait(); err != nil {
			t.Errorf("engine stopped with %v", err)
		}
	})
	if err := engine.Install(e, ms); err != nil {
		t.Fatal(err)
	}
	waitStarted := func(what string, queueStarts, minPebbleStarts int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			qn, qs := manifoldReport(e, unitagent.WorkloadEventsName)
			pn, ps := manifoldReport(e, unitagent.PebbleName)
			if qn == queueStarts && qs == "started" && pn >= minPebbleStarts && ps == "started" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; report %v", what, e.Report())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitStarted("workload-events and pebble to start", 1, 1)

	faults <- func() error { return errors.New("injected failure") }
	waitStarted("both restarted after a failure", 2, 2)

	faults <- func() error { panic("injected panic") }
	waitStarted("both restarted after a panic", 3, 3)

	if r := e.Report(); r["state"] != "started" {
		t.Fatalf("unit agent engine not running after its workers failed: %v", r)
	}
}
