package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"

	"github.com/troupe-dev/troupe/internal/engine"
)

// startCount reads a manifold's start count from an engine report.
func startCount(e *dependency.Engine, name string) int {
	r := e.Report()
	ms, _ := r["manifolds"].(map[string]any)
	m, _ := ms[name].(map[string]any)
	n, _ := m["start-count"].(int)
	return n
}

// fastPolicy restarts a failed worker after 20 ms instead of 3 s.
var fastPolicy = engine.Policy{
	ErrorDelay:       20 * time.Millisecond,
	BounceDelay:      time.Millisecond,
	BackoffFactor:    1,
	BackoffResetTime: time.Minute,
	MaxDelay:         20 * time.Millisecond,
}

// newEngine starts a real dependency engine with fastPolicy that logs
// into log (nil discards); it is stopped when the test ends, and the test
// fails if the engine died of anything but being stopped.
func newEngine(t *testing.T, log *lockedBuffer) *dependency.Engine {
	t.Helper()
	h := slog.Handler(slog.DiscardHandler)
	if log != nil {
		h = slog.NewTextHandler(log, nil)
	}
	e, err := engine.NewWithPolicy(slog.New(h), fastPolicy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Kill()
		if err := e.Wait(); err != nil {
			t.Errorf("engine stopped with %v", err)
		}
	})
	return e
}

// lockedBuffer is an io.Writer the engine's logger writes to while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool, report func() any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; report %v", what, report())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// manifoldState reads a manifold's state from an engine report.
func manifoldState(e *dependency.Engine, name string) string {
	ms, _ := e.Report()["manifolds"].(map[string]any)
	m, _ := ms[name].(map[string]any)
	s, _ := m["state"].(string)
	return s
}

// faultyGraph is a source worker whose running loop fails when told
// (fault is called in its goroutine, once per message on faults) and a
// dependent that needs it; both are engine.Func workers.
func faultyGraph(faults <-chan func() error) dependency.Manifolds {
	return dependency.Manifolds{
		"source": {
			Start: func(ctx context.Context, _ dependency.Getter) (worker.Worker, error) {
				return engine.Func(func(ctx context.Context) error {
					select {
					case fault := <-faults:
						return fault()
					case <-ctx.Done():
						return nil
					}
				}), nil
			},
		},
		"dependent": {
			Inputs: []string{"source"},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				if err := g.Get("source", nil); err != nil {
					return nil, err
				}
				return engine.Func(func(ctx context.Context) error { <-ctx.Done(); return nil }), nil
			},
		},
	}
}

// TestRunningWorkerErrorRestartsItAndDependents: a running worker whose
// loop fails is started again after the error delay, its dependent is
// stopped and started again with it, and the engine keeps running.
func TestRunningWorkerErrorRestartsItAndDependents(t *testing.T) {
	log := &lockedBuffer{}
	e := newEngine(t, log)
	faults := make(chan func() error)
	if err := engine.Install(e, faultyGraph(faults)); err != nil {
		t.Fatal(err)
	}
	report := func() any { return e.Report() }
	waitFor(t, "both workers started", func() bool {
		return startCount(e, "source") == 1 && startCount(e, "dependent") == 1 && manifoldState(e, "dependent") == "started"
	}, report)

	faults <- func() error { return errors.New("injected failure") }

	waitFor(t, "source and dependent restarted", func() bool {
		return startCount(e, "source") == 2 && startCount(e, "dependent") >= 2 &&
			manifoldState(e, "source") == "started" && manifoldState(e, "dependent") == "started"
	}, report)
	if r := e.Report(); r["state"] != "started" {
		t.Fatalf("engine not running after a worker failure: %v", r)
	}
	if !strings.Contains(log.String(), "injected failure") {
		t.Errorf("the worker's error is not logged:\n%s", log.String())
	}
}

// TestRunningWorkerPanicRestartsItAndDependents: a panic in a running
// worker's loop is recovered (the test binary would die otherwise) and
// becomes its error, logged with the panic value and the stack; the
// worker and its dependent restart and the engine keeps running.
func TestRunningWorkerPanicRestartsItAndDependents(t *testing.T) {
	log := &lockedBuffer{}
	e := newEngine(t, log)
	faults := make(chan func() error)
	if err := engine.Install(e, faultyGraph(faults)); err != nil {
		t.Fatal(err)
	}
	report := func() any { return e.Report() }
	waitFor(t, "both workers started", func() bool {
		return startCount(e, "source") == 1 && startCount(e, "dependent") == 1 && manifoldState(e, "dependent") == "started"
	}, report)

	faults <- func() error { panic("injected loop panic") }

	waitFor(t, "source and dependent restarted", func() bool {
		return startCount(e, "source") == 2 && startCount(e, "dependent") >= 2 &&
			manifoldState(e, "source") == "started" && manifoldState(e, "dependent") == "started"
	}, report)
	if r := e.Report(); r["state"] != "started" {
		t.Fatalf("engine not running after a worker panic: %v", r)
	}
	out := log.String()
	for _, want := range []string{"engine: worker panicked: injected loop panic", "goroutine ", "engine_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("engine log lacks %q:\n%s", want, out)
		}
	}

	// It keeps doing so: a second panic, a third start.
	faults <- func() error { panic("injected loop panic") }
	waitFor(t, "source restarted again", func() bool {
		return startCount(e, "source") == 3 && manifoldState(e, "dependent") == "started"
	}, report)
}

// TestFuncPanicIsItsError: Func turns a panic of its loop into the
// worker's error, also when it panics while stopping after a Kill (that
// error is not dropped, unlike a plain error returned once killed).
func TestFuncPanicIsItsError(t *testing.T) {
	w := engine.Func(func(ctx context.Context) error { panic("boom") })
	err := w.Wait()
	if !errors.Is(err, engine.ErrPanicked) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Wait() = %v, want ErrPanicked with the panic value", err)
	}

	w = engine.Func(func(ctx context.Context) error { <-ctx.Done(); panic("boom while stopping") })
	w.Kill()
	if err := w.Wait(); !errors.Is(err, engine.ErrPanicked) || !strings.Contains(err.Error(), "boom while stopping") {
		t.Fatalf("Wait() after Kill = %v, want ErrPanicked", err)
	}

	w = engine.Func(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	w.Kill()
	if err := w.Wait(); err != nil {
		t.Fatalf("Wait() after Kill of a loop returning ctx.Err() = %v, want nil", err)
	}
}

func TestPanickingStartIsRestartedAndDependentsBounce(t *testing.T) {
	e := newEngine(t, nil)
	var attempts atomic.Int32
	err := engine.Install(e, dependency.Manifolds{
		"flaky": {
			Start: func(ctx context.Context, _ dependency.Getter) (worker.Worker, error) {
				if attempts.Add(1) == 1 {
					panic("injected panic")
				}
				return engine.NewValue(42, nil), nil
			},
			Output: engine.ValueOutput[int],
		},
		"dependent": {
			Inputs: []string{"flaky"},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				var v int
				if err := g.Get("flaky", &v); err != nil {
					return nil, err
				}
				return engine.Func(func(ctx context.Context) error { <-ctx.Done(); return nil }), nil
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for attempts.Load() < 2 || startCount(e, "dependent") < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("panicking manifold not restarted: attempts %d, report %v", attempts.Load(), e.Report())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := startCount(e, "flaky"); got < 1 {
		t.Fatalf("report shows start-count %d for flaky after restart", got)
	}
	if r := e.Report(); r["state"] != "started" {
		t.Fatalf("engine not running after a worker panic: %v", fmt.Sprint(r["state"]))
	}
}
