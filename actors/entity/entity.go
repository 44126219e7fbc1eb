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
// Group commit: while one commit is in flight (on a goroutine the actor
// owns and always waits for), further requests are decided, in arrival
// order, against the state as it will be once everything decided so far
// is durable, and queued; when the commit lands the queued changes go to
// the store as one fenced transaction (the latest document). No reply —
// change, read or refusal — is sent before the state it was decided on is
// durable, and the applied state only ever moves to a committed one, so
// persist-then-apply holds for every caller; N concurrent writers cost
// about two commits of latency instead of N.
//
//	idle ──change──▶ committing ──landed, queue empty──▶ idle
//	                  │  ▲
//	      requests ───┘  └── landed: commit the queue as one batch
//
// When a batch fails its changes get the error, and every request decided
// after them is decided again against the durable state. On a restart the
// requests still queued are sent again to the new incarnation; on a stop
// they get an error.
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
	// owns (e.g. a task's pending marker, status history entries). It must
	// be pure. It is called once per change, in order, even when several
	// changes share one commit; when two changes of a batch write the same
	// key, the later one's operation is the one committed.
	Extra func(cur, next *T) []store.Op
}

type entityActor[T any] struct {
	cfg     Config[T]
	state   *T    // durable state; owned by the actor goroutine
	loadErr error // the load failed: every request panics (see load)

	// Group commit, all owned by the actor goroutine. spec is state plus
	// every change decided since (in flight and queued); nil when idle.
	spec     *T
	inflight *batch[T] // being committed; nil when idle
	queued   []decided // decided after inflight started, in order
}

// decided is one request decided but not yet answered.
type decided struct {
	sender  *actor.PID
	msg     any
	reply   any        // the reply, or a *supervise.Failure
	changed bool       // the decision changed the state
	extra   []store.Op // Extra of the change, decided with it
}

// batch is one commit in flight: the members it answers and the document
// it writes.
type batch[T any] struct {
	members []decided
	next    *T
	done    chan error // the commit's outcome; buffered, written once
}

// committed wakes the actor when batch b has landed. A committed of an
// earlier incarnation (sent after a restart) names a batch the actor does
// not hold and is ignored.
type committed struct{ b any }

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
	case *committed:
		if a.inflight != nil && msg.b == any(a.inflight) {
			a.landed(ctx, <-a.inflight.done)
		}
	case *actor.Restarting:
		a.drain(ctx, true)
	case *actor.Stopping:
		a.drain(ctx, false)
	case *actor.Stopped, actor.SystemMessage, actor.AutoReceiveMessage:
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
	a.decide(ctx, decided{sender: ctx.Sender(), msg: msg})
}

// decide decides d against the state as it will be once everything
// decided so far is durable, then answers it at once (idle, nothing to
// write), starts a commit (idle, a change) or queues it (busy).
func (a *entityActor[T]) decide(ctx actor.Context, d decided) {
	cur := a.state
	if a.spec != nil {
		cur = a.spec
	}
	now := time.Now
	if a.cfg.Now != nil {
		now = a.cfg.Now
	}
	next, reply, err := a.cfg.Handle(now(), cur, d.msg)
	d.reply = reply
	if err != nil {
		d.reply = &supervise.Failure{Err: err}
	}
	d.changed = err == nil && next != nil
	if d.changed && a.cfg.Extra != nil {
		d.extra = a.cfg.Extra(cur, next)
	}
	switch {
	case a.inflight != nil:
		if d.changed {
			a.spec = next
		}
		a.queued = append(a.queued, d)
	case d.changed:
		a.spec = next
		a.commit(ctx, []decided{d})
	default:
		answer(ctx, d)
	}
}

// commit starts writing a.spec for members on a goroutine; the actor
// hears of the outcome through a committed message.
func (a *entityActor[T]) commit(ctx actor.Context, members []decided) {
	b := &batch[T]{members: members, next: a.spec, done: make(chan error, 1)}
	a.inflight = b
	op, err := store.Put(a.cfg.Key, b.next)
	if err != nil {
		b.done <- err
		ctx.Send(ctx.Self(), &committed{b: b})
		return
	}
	var extras [][]store.Op
	for _, d := range members {
		if d.changed {
			extras = append(extras, d.extra)
		}
	}
	ops := append([]store.Op{op}, mergeExtras(extras)...)
	self, root, timeout, st := ctx.Self(), ctx.ActorSystem().Root, a.timeout(), a.cfg.Store
	go func() {
		c, cancel := context.WithTimeout(context.Background(), timeout)
		_, err := st.Commit(c, ops...)
		cancel()
		b.done <- err
		root.Send(self, &committed{b: b})
	}()
}

// mergeExtras flattens the Extra operations of a batch's changes, in
// order. etcd refuses a transaction that names one key twice, so when two
// changes write the same key only the later operation is kept, at the
// later position: the outcome of applying the changes one by one.
func mergeExtras(extras [][]store.Op) []store.Op {
	last := map[string]int{}
	var all []store.Op
	for _, ops := range extras {
		for _, op := range ops {
			last[string(op.KeyBytes())] = len(all)
			all = append(all, op)
		}
	}
	out := all[:0:0]
	for i, op := range all {
		if last[string(op.KeyBytes())] == i {
			out = append(out, op)
		}
	}
	return out
}

// landed applies the outcome of the in-flight batch: on success the state
// moves to what it wrote and its members are answered; on failure its
// changes get the error and everything decided after them is decided
// again against the durable state. Then the queue, if any, is committed
// as the next batch.
func (a *entityActor[T]) landed(ctx actor.Context, err error) {
	b := a.inflight
	a.inflight = nil
	queued := a.queued
	a.queued = nil
	if err == nil {
		a.state = b.next
		for _, d := range b.members {
			answer(ctx, d)
		}
		a.startQueued(ctx, queued)
		return
	}
	a.spec = nil
	var again []decided
	for _, d := range b.members {
		if d.changed {
			d.reply = &supervise.Failure{Err: fmt.Errorf("cannot persist %s: %w", a.cfg.Key, err)}
			answer(ctx, d)
		} else {
			again = append(again, d)
		}
	}
	for _, d := range append(again, queued...) {
		a.decide(ctx, d)
	}
}

// startQueued commits what was decided while the last batch was in
// flight; with no change among it, it answers it at once.
func (a *entityActor[T]) startQueued(ctx actor.Context, queued []decided) {
	for _, d := range queued {
		if d.changed {
			a.commit(ctx, queued)
			return
		}
	}
	a.spec = nil
	for _, d := range queued {
		answer(ctx, d)
	}
}

// drain runs before a restart or a stop: it waits for the in-flight
// commit (bounded by the persist timeout) and answers its members, then
// sends the queued requests again to the restarted actor, or, when the
// actor stops, answers them with an error.
func (a *entityActor[T]) drain(ctx actor.Context, restarting bool) {
	if a.inflight != nil {
		b := a.inflight
		err := <-b.done
		var again []decided
		for _, d := range b.members {
			if err != nil && d.changed {
				d.reply = &supervise.Failure{Err: fmt.Errorf("cannot persist %s: %w", a.cfg.Key, err)}
			}
			if err == nil || d.changed {
				answer(ctx, d)
			} else {
				again = append(again, d) // decided on a state that never landed
			}
		}
		a.queued = append(again, a.queued...)
	}
	for _, d := range a.queued {
		if restarting {
			ctx.RequestWithCustomSender(ctx.Self(), d.msg, d.sender)
		} else {
			d.reply = &supervise.Failure{Err: fmt.Errorf("%s stopped before answering", a.cfg.Key)}
			answer(ctx, d)
		}
	}
	a.inflight, a.queued, a.spec = nil, nil, nil
}

// answer sends d's reply to its sender, if it has one.
func answer(ctx actor.Context, d decided) {
	if d.sender != nil {
		ctx.Send(d.sender, d.reply)
	}
}
