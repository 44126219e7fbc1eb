package pebble

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/troupe-dev/troupe/internal/atomicfile"
	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// Queue is the unit's durable queue of workload (Pebble) hook events,
// shared by the pebble worker (the producer) and the uniter (the
// consumer). It lives in one file (state/workload-events.json), replaced
// atomically and fsynced on every change, holding:
//
//   - the events not yet acknowledged, each with a sequence number that
//     is unique and increasing for the life of the unit;
//   - per container, the identity of the Pebble daemon whose pebble-ready
//     was queued and the notice cursor (the LastRepeated time of the last
//     notice turned into events).
//
// Events and the cursor that produced them are recorded in one write, so
// after a kill -9 a notice is neither lost nor queued twice; the uniter
// persists the sequence number of the event it ran in its operation state
// (resolver.State.WorkloadEventSeq) before running it, and acknowledges
// it afterwards, so an event is never run twice either.
//
// Safe for concurrent use.
type Queue struct {
	path    string
	mu      sync.Mutex
	doc     queueDoc      // guarded by mu
	changed chan struct{} // capacity 1: "events changed"
}

type queueDoc struct {
	Version    int                        `json:"version"`
	Next       uint64                     `json:"next"` // the next sequence number
	Events     []queuedEvent              `json:"events,omitempty"`
	Containers map[string]*ContainerState `json:"containers,omitempty"`
}

type queuedEvent struct {
	Seq  uint64    `json:"seq"`
	Hook hook.Info `json:"hook"`
}

// ContainerState is what the queue remembers of one container.
type ContainerState struct {
	// Daemon identifies the Pebble daemon whose pebble-ready was queued
	// (machine boot id, pid and process start time: Pebble's own boot id
	// is the machine's); another value is a new daemon.
	Daemon string `json:"daemon,omitempty"`
	// Cursor is the LastRepeated time of the last notice handled: the
	// next notices query asks for notices repeated after it.
	Cursor time.Time `json:"cursor,omitzero"`
}

const queueVersion = 1

// OpenQueue opens (or creates, on first use) the queue file at path.
func OpenQueue(path string) (*Queue, error) {
	q := &Queue{path: path, changed: make(chan struct{}, 1), doc: queueDoc{Version: queueVersion, Next: 1}}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return q, nil
	case err != nil:
		return nil, fmt.Errorf("cannot read workload events: %w", err)
	}
	if err := json.Unmarshal(data, &q.doc); err != nil {
		return nil, fmt.Errorf("cannot read workload events: %q is corrupt: %w; remove it to start afresh (pending Pebble events are lost, pebble-ready runs again)", path, err)
	}
	if q.doc.Version != queueVersion {
		return nil, fmt.Errorf("cannot read workload events: %q has format version %d, want %d", path, q.doc.Version, queueVersion)
	}
	for _, ev := range q.doc.Events {
		if err := ev.Hook.Validate(); err != nil || !ev.Hook.Kind.IsWorkload() {
			return nil, fmt.Errorf("cannot read workload events: %q holds a bad event %d: %v", path, ev.Seq, err)
		}
	}
	if q.doc.Next == 0 {
		q.doc.Next = 1
	}
	return q, nil
}

// Container returns what the queue remembers of container name (a zero
// value for a container never seen).
func (q *Queue) Container(name string) ContainerState {
	q.mu.Lock()
	defer q.mu.Unlock()
	if c := q.doc.Containers[name]; c != nil {
		return *c
	}
	return ContainerState{}
}

// Record durably appends hooks (in order) and replaces container name's
// state with st, in one write.
func (q *Queue) Record(name string, st ContainerState, hooks ...hook.Info) error {
	for _, h := range hooks {
		if err := h.Validate(); err != nil {
			return err
		}
		if !h.Kind.IsWorkload() {
			return fmt.Errorf("cannot queue %q: not a workload hook", h.Kind)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	doc := q.doc
	doc.Events = append([]queuedEvent(nil), q.doc.Events...)
	doc.Containers = make(map[string]*ContainerState, len(q.doc.Containers)+1)
	for k, v := range q.doc.Containers {
		doc.Containers[k] = v
	}
	for _, h := range hooks {
		doc.Events = append(doc.Events, queuedEvent{Seq: doc.Next, Hook: h})
		doc.Next++
	}
	c := st
	doc.Containers[name] = &c
	if err := q.save(doc); err != nil {
		return err
	}
	if len(hooks) > 0 {
		q.notify()
	}
	return nil
}

// Events returns the queued events in order.
func (q *Queue) Events() []resolver.Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]resolver.Event, len(q.doc.Events))
	for i, ev := range q.doc.Events {
		out[i] = resolver.Event{Seq: ev.Seq, Hook: ev.Hook}
	}
	return out
}

// Ack durably drops the events numbered seq or lower: the uniter has
// recorded that it ran them. It also makes sure new events are numbered
// above seq, should the queue file have been lost.
func (q *Queue) Ack(seq uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	doc := q.doc
	doc.Events = nil
	for _, ev := range q.doc.Events {
		if ev.Seq > seq {
			doc.Events = append(doc.Events, ev)
		}
	}
	if doc.Next <= seq {
		doc.Next = seq + 1
	}
	if len(doc.Events) == len(q.doc.Events) && doc.Next == q.doc.Next {
		return nil
	}
	return q.save(doc)
}

// Changes signals (coalesced) that events were queued.
func (q *Queue) Changes() <-chan struct{} { return q.changed }

func (q *Queue) notify() {
	select {
	case q.changed <- struct{}{}:
	default:
	}
}

// save writes doc and makes it current; q.mu is held.
func (q *Queue) save(doc queueDoc) error {
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot save workload events: %w", err)
	}
	if err := atomicfile.Write(q.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("cannot save workload events: %w", err)
	}
	q.doc = doc
	return nil
}
