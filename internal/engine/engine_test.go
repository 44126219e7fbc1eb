package engine_test

import (
	"context"
	"fmt"
	"log/slog"
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

func TestPanickingStartIsRestartedAndDependentsBounce(t *testing.T) {
	e, err := engine.New(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Kill(); e.Wait() }()
	var attempts atomic.Int32
	err = engine.Install(e, dependency.Manifolds{
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
	// Juju's error delay is 3s; the first restart lands after it.
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
