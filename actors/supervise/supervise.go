// Package supervise is the supervision policy of every Troupe actor.
//
// protoactor-go's default strategy drops the message that panicked (the
// caller times out) and, after ten restarts in ten seconds, stops the
// actor for good without telling anyone. Troupe replaces it: the sender of
// the failing message gets a *Failure reply at once, the actor restarts
// from its persisted state, and past the restart intensity (MaxRestarts
// within Window) the child is stopped and its parent receives a Parked
// message carrying the reason, so the entity is never silently lost.
//
// Who imports it: every package under actors/. It does no IO.
package supervise

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Failure is the reply to a request that could not be served: a validation
// or store error returned by a handler, or a panic while handling it.
type Failure struct{ Err error }

// Error implements error.
func (f *Failure) Error() string { return f.Err.Error() }

// Parked tells a parent that its child exceeded its restart intensity and
// has been stopped.
type Parked struct {
	Child  *actor.PID
	Reason string
}

// ErrPanicked wraps the value of a recovered panic.
var ErrPanicked = errors.New("actor panicked")

// Strategy is a one-for-one supervisor strategy with bounded restart
// intensity.
type Strategy struct {
	MaxRestarts int           // zero means 5
	Window      time.Duration // zero means 10s
	Logger      *slog.Logger  // nil means slog.Default()
	// Observer, if not nil, is told of every restart and park (metrics),
	// before the failing message's sender gets its reply.
	Observer Observer
	// Mailboxes, if not nil, gives the mailbox middleware of the actors
	// of each kind (metrics: mailbox depth).
	Mailboxes MailboxObserver
}

// MailboxObserver makes the mailbox middleware actors of one kind are
// spawned with. Its middleware's methods run on senders' and the actor's
// goroutines and must not block.
type MailboxObserver interface {
	Mailbox(kind string) actor.MailboxMiddleware
}

// WithMailbox configures props with kind's mailbox middleware when
// strategy is a *Strategy with Mailboxes; it returns props.
func WithMailbox(strategy actor.SupervisorStrategy, kind string, props *actor.Props) *actor.Props {
	s, ok := strategy.(*Strategy)
	if !ok || s == nil || s.Mailboxes == nil {
		return props
	}
	return props.Configure(actor.WithMailbox(actor.Unbounded(s.Mailboxes.Mailbox(kind))))
}

// Observer counts supervision events. Its methods are called on the
// supervisor's goroutine and must not block.
type Observer interface {
	ActorRestarted()
	ActorParked()
}

var _ actor.SupervisorStrategy = (*Strategy)(nil)

// HandleFailure implements actor.SupervisorStrategy. Past the restart
// intensity it tells the parent with a Parked message; a parent that must
// know of the parking before anything else happens (the model guardian)
// implements actor.SupervisorStrategy itself and calls Handle.
func (s *Strategy) HandleFailure(system *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, message any) {
	s.Handle(system, sup, child, rs, reason, message, func(child *actor.PID, reason string) {
		if p, ok := sup.(interface{ Self() *actor.PID }); ok {
			system.Root.Send(p.Self(), &Parked{Child: child, Reason: reason})
		}
	})
}

// Handle applies the strategy to one failure of child. When the child is
// to be parked, onPark runs first, on the supervisor's goroutine, before
// the child is stopped and before the failing message's sender gets its
// reply: a caller that retries at once finds the entity parked rather
// than a fresh actor with a fresh restart budget.
//
// onPark must not rely on the child's Terminated message: protoactor
// delivers Terminated as a system message, ahead of any user message the
// parent has queued.
func (s *Strategy) Handle(system *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, message any, onPark func(child *actor.PID, reason string)) {
	max, window := s.MaxRestarts, s.Window
	if max == 0 {
		max = 5
	}
	if window == 0 {
		window = 10 * time.Second
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	err := fmt.Errorf("%w: %v", ErrPanicked, reason)
	rs.Fail()
	park := rs.NumberOfFailures(window) > max
	if s.Observer != nil {
		if park {
			s.Observer.ActorParked()
		} else {
			s.Observer.ActorRestarted()
		}
	}
	reply := func() {
		if env, ok := message.(*actor.MessageEnvelope); ok && env.Sender != nil {
			system.Root.Send(env.Sender, &Failure{Err: err})
		}
	}
	if park {
		log.Error("actor parked: restart intensity exceeded", "actor", child.Id, "reason", fmt.Sprint(reason), "restarts", max, "window", window)
		if onPark != nil {
			onPark(child, fmt.Sprint(reason))
		}
		sup.StopChildren(child)
		reply()
		return
	}
	log.Warn("actor restarting after panic", "actor", child.Id, "reason", fmt.Sprint(reason))
	sup.RestartChildren(child)
	reply()
}

// Ask sends msg to pid and waits for its reply. A *Failure reply is
// returned as its error; any other reply must be of type R.
func Ask[R any](root *actor.RootContext, pid *actor.PID, msg any, timeout time.Duration) (R, error) {
	var zero R
	res, err := root.RequestFuture(pid, msg, timeout).Result()
	if err != nil {
		return zero, fmt.Errorf("actor %s did not answer: %w", pid.Id, err)
	}
	if f, ok := res.(*Failure); ok {
		return zero, f.Err
	}
	r, ok := res.(R)
	if !ok {
		return zero, fmt.Errorf("actor %s answered %T, want %T", pid.Id, res, zero)
	}
	return r, nil
}
