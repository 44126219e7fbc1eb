// Package engine builds juju/worker/v4 dependency engines with Troupe's
// policy, shared by the controller and both agents: Juju's restart policy
// (error delay 3s × 1.2ⁿ capped at 2 min, bounce 10 ms, backoff reset after
// a minute of good running), start functions wrapped so a panic becomes an
// error (and a restart) instead of a dead process, and a slog logger.
//
// It also provides Value, a worker that only holds a value for dependents
// (agent config, clocks, connections owned elsewhere).
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"time"

	"github.com/juju/clock"
	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"
	"gopkg.in/tomb.v2"
)

// ErrFatal marks errors that must stop the whole engine.
var ErrFatal = errors.New("fatal")

// New returns an engine with Troupe's policy.
func New(log *slog.Logger) (*dependency.Engine, error) {
	return dependency.NewEngine(dependency.EngineConfig{
		IsFatal:          func(err error) bool { return errors.Is(err, ErrFatal) },
		WorstError:       func(a, b error) error { return a },
		ErrorDelay:       3 * time.Second,
		BounceDelay:      10 * time.Millisecond,
		BackoffFactor:    1.2,
		BackoffResetTime: time.Minute,
		MaxDelay:         2 * time.Minute,
		Clock:            clock.WallClock,
		Metrics:          dependency.DefaultMetrics(),
		Logger:           logger{log},
	})
}

// Install installs manifolds after wrapping each start function so a panic
// is returned as an error.
func Install(e *dependency.Engine, manifolds dependency.Manifolds) error {
	for name, m := range manifolds {
		m.Start = safeStart(name, m.Start)
		if err := e.Install(name, m); err != nil {
			return fmt.Errorf("cannot install manifold %q: %w", name, err)
		}
	}
	return nil
}

func safeStart(name string, start dependency.StartFunc) dependency.StartFunc {
	return func(ctx context.Context, g dependency.Getter) (w worker.Worker, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("manifold %q panicked while starting: %v\n%s", name, r, debug.Stack())
			}
		}()
		return start(ctx, g)
	}
}

type logger struct{ l *slog.Logger }

func (l logger) Tracef(f string, a ...any) {}
func (l logger) Debugf(f string, a ...any) { l.l.Debug(fmt.Sprintf(f, a...)) }
func (l logger) Infof(f string, a ...any)  { l.l.Info(fmt.Sprintf(f, a...)) }
func (l logger) Errorf(f string, a ...any) { l.l.Error(fmt.Sprintf(f, a...)) }

// Value is a worker that holds a value until killed.
type Value[T any] struct {
	tomb tomb.Tomb
	V    T
	stop func() // optional cleanup when the worker dies
}

// NewValue starts a Value worker; stop, if not nil, runs when it dies.
func NewValue[T any](v T, stop func()) *Value[T] {
	w := &Value[T]{V: v, stop: stop}
	w.tomb.Go(func() error {
		<-w.tomb.Dying()
		if w.stop != nil {
			w.stop()
		}
		return nil
	})
	return w
}

// Kill implements worker.Worker.
func (w *Value[T]) Kill() { w.tomb.Kill(nil) }

// Wait implements worker.Worker.
func (w *Value[T]) Wait() error { return w.tomb.Wait() }

// ValueOutput is an OutputFunc for Value[T] workers, filling a *T.
func ValueOutput[T any](in worker.Worker, out any) error {
	v, ok := in.(*Value[T])
	if !ok {
		return fmt.Errorf("expected *Value[%T], got %T", *new(T), in)
	}
	p, ok := out.(*T)
	if !ok {
		return fmt.Errorf("expected *%T output, got %T", *new(T), out)
	}
	*p = v.V
	return nil
}

// Func runs fn as a worker until it returns or the worker is killed (its
// context is then cancelled).
func Func(fn func(ctx context.Context) error) worker.Worker {
	w := &funcWorker{}
	ctx, cancel := context.WithCancel(context.Background())
	w.tomb.Go(func() error {
		defer cancel()
		errc := make(chan error, 1)
		w.tomb.Go(func() error { errc <- fn(ctx); return nil })
		select {
		case err := <-errc:
			return err
		case <-w.tomb.Dying():
			cancel()
			<-errc
			return tomb.ErrDying
		}
	})
	return w
}

type funcWorker struct{ tomb tomb.Tomb }

func (w *funcWorker) Kill() { w.tomb.Kill(nil) }
func (w *funcWorker) Wait() error {
	err := w.tomb.Wait()
	if errors.Is(err, tomb.ErrDying) {
		return nil
	}
	return err
}

// Logger adapts slog to the juju/worker logger interfaces.
func Logger(l *slog.Logger) interface {
	Tracef(string, ...any)
	Debugf(string, ...any)
	Infof(string, ...any)
	Errorf(string, ...any)
} {
	return logger{l}
}

// Graph is the shape of a dependency graph: manifold name to its sorted
// inputs. Tests pin each agent's graph with it.
func Graph(manifolds dependency.Manifolds) map[string][]string {
	out := make(map[string][]string, len(manifolds))
	for name, m := range manifolds {
		in := append([]string{}, m.Inputs...)
		sort.Strings(in)
		out[name] = in
	}
	return out
}
