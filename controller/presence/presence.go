// Package presence is the controller's in-memory view of which agents are
// connected. An agent is connected while it holds at least one agent
// stream (WatchMachine, WatchUnit) and for a short flap window after any
// authenticated call; once it is out of touch status shows it
// `disconnected`, and only after the model's lost-after it shows `lost`
// (machine `down`). Nothing here is persisted: a heartbeat is a map
// update under a mutex, so thousands of agents cost no etcd writes, and
// after a controller restart every agent is given the restart grace (at
// least lost-after from the controller's start) to reconnect before any
// is declared lost.
//
// Decide is the pure decision; Tracker holds the records. Who imports
// it: controller (assembly) and controller/apiserver (status, streams).
package presence

import (
	"sync"
	"time"
)

// State is an agent's presence.
type State int

// States.
const (
	// Connected: the agent holds a stream or was heard from within the
	// flap window.
	Connected State = iota
	// Disconnected: out of touch for less than lost-after (or within the
	// restart grace).
	Disconnected
	// Lost: out of touch for lost-after or longer.
	Lost
)

func (s State) String() string {
	switch s {
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	}
	return "lost"
}

// Record is what the tracker knows of one agent.
type Record struct {
	// Streams is the number of open agent streams.
	Streams int
	// LastSeen is the last time the agent was heard from: a call, a
	// stream opening or closing.
	LastSeen time.Time
}

// Policy holds the times Decide works with.
type Policy struct {
	// Started is when this controller process started tracking.
	Started time.Time
	// RestartGrace is how long after Started no agent is declared lost,
	// whatever its lost-after; effectively max(RestartGrace, lostAfter).
	RestartGrace time.Duration
	// Flap is how long after LastSeen an agent with no stream still
	// counts as connected (a watch being re-established).
	Flap time.Duration
}

// Decide is an agent's presence at now: rec (known says whether this
// controller has heard from the agent at all since it started) under p
// with the model's lostAfter. Pure.
func Decide(rec Record, known bool, p Policy, lostAfter time.Duration, now time.Time) State {
	if known && (rec.Streams > 0 || now.Sub(rec.LastSeen) < p.Flap) {
		return Connected
	}
	// Out of touch since the later of its last sign of life and this
	// controller's start; lost once both lost-after from then and the
	// restart grace have passed.
	since := p.Started
	if known && rec.LastSeen.After(since) {
		since = rec.LastSeen
	}
	lostAt := since.Add(lostAfter)
	if g := p.Started.Add(p.RestartGrace); g.After(lostAt) {
		lostAt = g
	}
	if now.Before(lostAt) {
		return Disconnected
	}
	return Lost
}

// Tracker holds the presence records of every agent, by tag string. Safe
// for concurrent use; every method is O(1) under one mutex.
type Tracker struct {
	policy Policy
	now    func() time.Time

	mu      sync.Mutex
	records map[string]*Record
}

// NewTracker starts tracking at now() with the given restart grace and
// flap window (Policy.Started is set from now).
func NewTracker(now func() time.Time, restartGrace, flap time.Duration) *Tracker {
	if now == nil {
		now = time.Now
	}
	return &Tracker{now: now, records: map[string]*Record{},
		policy: Policy{Started: now(), RestartGrace: restartGrace, Flap: flap}}
}

func (t *Tracker) record(tag string) *Record {
	r, ok := t.records[tag]
	if !ok {
		r = &Record{}
		t.records[tag] = r
	}
	return r
}

// Seen is a heartbeat: the agent tag was heard from now.
func (t *Tracker) Seen(tag string) {
	now := t.now()
	t.mu.Lock()
	t.record(tag).LastSeen = now
	t.mu.Unlock()
}

// Connect records an open agent stream; call the returned function once
// when it ends.
func (t *Tracker) Connect(tag string) (release func()) {
	now := t.now()
	t.mu.Lock()
	r := t.record(tag)
	r.Streams++
	r.LastSeen = now
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			now := t.now()
			t.mu.Lock()
			r := t.record(tag)
			r.Streams--
			r.LastSeen = now
			t.mu.Unlock()
		})
	}
}

// State is tag's presence now under the model's lostAfter.
func (t *Tracker) State(tag string, lostAfter time.Duration) State {
	now := t.now()
	t.mu.Lock()
	r, ok := t.records[tag]
	var rec Record
	if ok {
		rec = *r
	}
	t.mu.Unlock()
	return Decide(rec, ok, t.policy, lostAfter, now)
}

// Forget drops tag's record (the agent's entity is gone).
func (t *Tracker) Forget(tag string) {
	t.mu.Lock()
	delete(t.records, tag)
	t.mu.Unlock()
}
