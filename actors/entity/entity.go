// Package entity is the generic single-writer entity actor: one actor owns
// one document in the store and is the only code that writes it.
//
// Protocol for each request message:
//
//	validate (pure Handler) ─▶ persist (fenced Commit) ─▶ apply ─▶ reply
//
// The in-memory state never runs ahead of what is durable: when the
// Commit fails the caller gets the error and the actor keeps its old
// state. On start (and on every restart after a panic) the actor loads
// its document from the store, unless it was spawned with the document it
// has just created.
//
// Who imports it: the model guardian and the per-kind actor packages.
package entity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/internal/store"
)

// ErrNotFound is returned to callers of an entity that does not exist.
var ErrNotFound = errors.New("not found")

// Handler decides how a message changes the entity. It is pure: it returns
// the next state (nil when unchanged), the reply, or an error (the state is
// then unchanged). cur is never nil.
type Handler[T any] func(now time.Time, cur *T, msg any) (next *T, reply any, err error)

// Config configures an entity actor.
type Config[T any] struct {
	Store   *store.Store
	Key     string
	Handle  Handler[T]
	Initial *T // when set, used instead of loading from the store once
	Now     func() time.Time
	// Timeout bounds a persist. Zero means 10s.
	Timeout time.Duration
	// BeforeHandle, when set, runs before each request is decided; a panic
	// there is a handler panic (fault injection in tests).
	BeforeHandle func(msg any)
	// Extra, when set, returns more store operations to commit in the
	// same transaction as a change from cur to next: index keys the entity
	// owns (e.g. a task's pending marker). It must be pure.
	Extra func(cur, next *T) []store.Op
}

type entityActor[T any] struct {
	cfg     Config[T]
	state   *T    // owned by the actor goroutine
	loadErr error // the load failed: every request panics (see load)
}

// Props returns props for an entity actor.
func Props[T any](cfg Config[T]) *actor.Props {
	initial := cfg.Initial
	return actor.PropsFromProducer(func() actor.Actor {
		a := &entityActor[T]{cfg: cfg}
		a.cfg.Initial = initial
		initial = nil // only the first incarnation may skip the load
		return a
	})
}

func (a *entityActor[T]) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.load()
	case *actor.Restarting, *actor.Stopping, *actor.Stopped, actor.SystemMessage, actor.AutoReceiveMessage:
	default:
		a.handle(ctx, msg)
	}
}

func (a *entityActor[T]) load() {
	if a.cfg.Initial != nil {
		a.state = a.cfg.Initial
		return
	}
	var v T
	c, cancel := context.WithTimeout(context.Background(), a.timeout())
	defer cancel()
	_, err := a.cfg.Store.Get(c, a.cfg.Key, &v)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.state = nil
	case err != nil:
		// Not a panic here: a panic while starting carries no request, so
		// nobody would get an answer. The next request panics instead, so
		// its sender gets the error at once, the supervisor restarts the
		// actor (which loads again) and a document that stays unreadable
		// exhausts the restart intensity and is parked.
		a.loadErr = fmt.Errorf("cannot load %s: %w", a.cfg.Key, err)
	default:
		a.state = &v
	}
}

func (a *entityActor[T]) timeout() time.Duration {
	if a.cfg.Timeout == 0 {
		return 10 * time.Second
	}
	return a.cfg.Timeout
}

func (a *entityActor[T]) handle(ctx actor.Context, msg any) {
	if a.loadErr != nil {
		panic(a.loadErr.Error())
	}
	if a.cfg.BeforeHandle != nil {
		a.cfg.BeforeHandle(msg)
	}
	if a.state == nil {
		ctx.Respond(&supervise.Failure{Err: fmt.Errorf("%s %w", a.cfg.Key, ErrNotFound)})
		return
	}
	now := time.Now
	if a.cfg.Now != nil {
		now = a.cfg.Now
	}
	next, reply, err := a.cfg.Handle(now(), a.state, msg)
	if err != nil {
		ctx.Respond(&supervise.Failure{Err: err})
		return
	}
	if next != nil {
		op, err := store.Put(a.cfg.Key, next)
		if err == nil {
			ops := []store.Op{op}
			if a.cfg.Extra != nil {
				ops = append(ops, a.cfg.Extra(a.state, next)...)
			}
			c, cancel := context.WithTimeout(context.Background(), a.timeout())
			_, err = a.cfg.Store.Commit(c, ops...)
			cancel()
		}
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: fmt.Errorf("cannot persist %s: %w", a.cfg.Key, err)})
			return
		}
		a.state = next
	}
	if ctx.Sender() != nil {
		ctx.Respond(reply)
	}
}
