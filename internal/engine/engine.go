// Package engine builds juju/worker/v4 dependency engines with Troupe's
// policy, shared by the controller and both agents: Juju's restart policy
// (error delay 3s × 1.2ⁿ capped at 2 min, bounce 10 ms, backoff reset after
// a minute of good running), panics recovered and turned into the worker's
// error (and so a restart of it and a bounce of its dependents) instead of
// a dead process, and a slog logger.
//
// A panic is recovered in two places, both through recovered: a manifold's
// start function (Install wraps each one) and the loop of a worker built
// with Func (every long-running worker of the agents and the controller).
// The error wraps ErrPanicked and carries the panic value and the
// goroutine's stack; the engine logs it ("manifold worker returned
// unexpected error") and restarts the worker after its error delay. A
// goroutine a worker starts itself is not covered: a panic there still
// ends the process.
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

// ErrPanicked is wrapped by the error of a start function or a Func loop
// that panicked.
var ErrPanicked = errors.New("engine: worker panicked")

// Policy is an engine's restart policy (see dependency.EngineConfig).
type Policy struct {
	ErrorDelay       time.Duration // before restarting a worker that failed
	BounceDelay      time.Duration // before restarting a bounced worker
	BackoffFactor    float64       // ErrorDelay grows by it per recent error
	BackoffResetTime time.Duration // good running that resets the backoff
	MaxDelay         time.Duration // cap of the grown ErrorDelay
}

// DefaultPolicy is Juju's: 3s × 1.2ⁿ capped at 2 min, bounce 10 ms,
// backoff reset after a minute.
func DefaultPolicy() Policy {
	return Policy{
		ErrorDelay:       3 * time.Second,
		BounceDelay:      10 * time.Millisecond,
		BackoffFactor:    1.2,
		BackoffResetTime: time.Minute,
		MaxDelay:         2 * time.Minute,
	}
}

// New returns an engine with Troupe's policy (DefaultPolicy).
func New(log *slog.Logger) (*dependency.Engine, error) {
	return NewWithPolicy(log, DefaultPolicy())
}

// NewWithPolicy returns an engine with the given restart policy; tests
// use short delays.
func NewWithPolicy(log *slog.Logger, p Policy) (*dependency.Engine, error) {
	return dependency.NewEngine(dependency.EngineConfig{
		IsFatal:          func(err error) bool { return errors.Is(err, ErrFatal) },
		WorstError:       func(a, b error) error { return a },
		ErrorDelay:       p.ErrorDelay,
		BounceDelay:      p.BounceDelay,
		BackoffFactor:    p.BackoffFactor,
		BackoffResetTime: p.BackoffResetTime,
		MaxDelay:         p.MaxDelay,
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
		defer recovered(&err, fmt.Sprintf("manifold %q start", name))
		return start(ctx, g)
	}
}

// recovered, deferred directly, turns a panic of the calling goroutine
// into *err: ErrPanicked with what panicked, the panic value and the
// goroutine's stack (taken where the panic happened, before unwinding).
func recovered(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: %w: %v\n%s", what, ErrPanicked, r, debug.Stack())
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
// context is then cancelled). A panic in fn is recovered and becomes the
// worker's error (wrapping ErrPanicked), even after the worker was killed;
// any other error fn returns once killed is dropped.
func Func(fn func(ctx context.Context) error) worker.Worker {
	w := &funcWorker{}
	ctx, cancel := context.WithCancel(context.Background())
	w.tomb.Go(func() error {
		defer cancel()
		errc := make(chan error, 1)
		w.tomb.Go(func() error { errc <- runLoop(ctx, fn); return nil })
		select {
		case err := <-errc:
			return err
		case <-w.tomb.Dying():
			cancel()
			if err := <-errc; errors.Is(err, ErrPanicked) {
				return err
			}
			return tomb.ErrDying
		}
	})
	return w
}

func runLoop(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	defer recovered(&err, "worker loop")
	return fn(ctx)
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
