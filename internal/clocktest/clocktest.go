// Package clocktest is a manual clock for worker tests: it implements
// juju/clock.Clock, time moves only when the test calls Advance, and the
// test can wait until the code under test has armed the timers it
// expects (WaitFor) instead of sleeping.
//
// Timers fire synchronously inside Advance, in deadline order: a channel
// timer gets the time on its buffered channel, an AfterFunc/AtFunc
// function is called on the Advance caller's goroutine.
//
// Who imports it: tests only (it lives outside _test files so several
// packages can share it). It never imports Troupe code.
package clocktest

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/juju/clock"
)

// Clock is a manual clock. Safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*timer      // active timers; guarded by mu
	changed chan struct{} // closed and replaced on every timer change; guarded by mu
}

var _ clock.Clock = (*Clock)(nil)

// New returns a clock reading now.
func New(now time.Time) *Clock { return &Clock{now: now, changed: make(chan struct{})} }

// Timer is what WaitFor shows of an armed timer.
type Timer struct {
	// Requested is the duration the timer was (re)armed with.
	Requested time.Duration
	// Remaining is the time left before it fires.
	Remaining time.Duration
}

type timer struct {
	c         *Clock
	deadline  time.Time
	requested time.Duration
	ch        chan time.Time
	f         func()
}

func (t *timer) Chan() <-chan time.Time { return t.ch }

func (t *timer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.c.removeLocked(t)
	t.deadline, t.requested = t.c.now.Add(d), d
	t.c.timers = append(t.c.timers, t)
	t.c.notifyLocked()
	return was
}

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.c.removeLocked(t)
	if was {
		t.c.notifyLocked()
	}
	return was
}

type alarm struct{ *timer }

func (a alarm) Reset(at time.Time) bool {
	a.c.mu.Lock()
	d := at.Sub(a.c.now)
	a.c.mu.Unlock()
	return a.timer.Reset(d)
}

func (c *Clock) removeLocked(t *timer) bool {
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}

func (c *Clock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Clock) add(d time.Duration, f func()) *timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, deadline: c.now.Add(d), requested: d, f: f}
	if f == nil {
		t.ch = make(chan time.Time, 1)
	}
	c.timers = append(c.timers, t)
	c.notifyLocked()
	return t
}

// Now implements clock.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After implements clock.Clock.
func (c *Clock) After(d time.Duration) <-chan time.Time { return c.add(d, nil).ch }

// AfterFunc implements clock.Clock.
func (c *Clock) AfterFunc(d time.Duration, f func()) clock.Timer { return c.add(d, f) }

// NewTimer implements clock.Clock.
func (c *Clock) NewTimer(d time.Duration) clock.Timer { return c.add(d, nil) }

// At implements clock.Clock.
func (c *Clock) At(t time.Time) <-chan time.Time { return c.After(t.Sub(c.Now())) }

// AtFunc implements clock.Clock.
func (c *Clock) AtFunc(t time.Time, f func()) clock.Alarm {
	return alarm{c.add(t.Sub(c.Now()), f)}
}

// NewAlarm implements clock.Clock.
func (c *Clock) NewAlarm(t time.Time) clock.Alarm { return alarm{c.add(t.Sub(c.Now()), nil)} }

// Advance moves the clock forward by d and fires every timer whose
// deadline has passed, earliest first.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*timer
	keep := c.timers[:0]
	for _, t := range c.timers {
		if !t.deadline.After(c.now) {
			due = append(due, t)
		} else {
			keep = append(keep, t)
		}
	}
	c.timers = keep
	now := c.now
	if len(due) > 0 {
		c.notifyLocked()
	}
	c.mu.Unlock()
	sort.SliceStable(due, func(i, j int) bool { return due[i].deadline.Before(due[j].deadline) })
	for _, t := range due {
		if t.f != nil {
			t.f()
			continue
		}
		select {
		case t.ch <- now:
		default:
		}
	}
}

// Timers lists the armed timers, soonest first.
func (c *Clock) Timers() []Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timersLocked()
}

func (c *Clock) timersLocked() []Timer {
	out := make([]Timer, 0, len(c.timers))
	for _, t := range c.timers {
		out = append(out, Timer{Requested: t.requested, Remaining: t.deadline.Sub(c.now)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Remaining < out[j].Remaining })
	return out
}

// WaitFor blocks until ok holds for the armed timers, and returns them;
// it returns ctx's error (and the last timers seen) if ctx ends first.
func (c *Clock) WaitFor(ctx context.Context, ok func([]Timer) bool) ([]Timer, error) {
	for {
		c.mu.Lock()
		ts, ch := c.timersLocked(), c.changed
		c.mu.Unlock()
		if ok(ts) {
			return ts, nil
		}
		select {
		case <-ctx.Done():
			return ts, ctx.Err()
		case <-ch:
		}
	}
}
