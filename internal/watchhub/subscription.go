package watchhub

import (
	"context"
	"sync"
)

// Subscription is one subscriber's ordered stream of events. One goroutine
// reads it with Next; Close may be called from any goroutine.
//
//	history ──(hub memory covers the rest)──▶ live ──▶ ended (err set)
//	   │                                        │
//	   └── compacted / closed / hub stopped ────┴── overflow / closed / hub stopped
type Subscription struct {
	hub    *Hub
	id     uint64
	filter func(key string) bool
	buffer int
	// cancel stops the history watch; nil when the subscription started
	// live. Set before the subscription is shared.
	cancel context.CancelFunc

	// last is the revision up to which every change under the prefix has
	// been offered to this subscription. Owned by the history goroutine
	// while catching up, then guarded by hub.mu.
	last int64

	ready chan struct{} // capacity 1: an event was queued or err was set
	space chan struct{} // capacity 1: Next took an event

	mu sync.Mutex
	// queue holds the events not yet returned by Next. Guarded by mu.
	queue []Event
	// err ends the subscription once queue is drained; the first one set
	// wins. Guarded by mu.
	err error
	// stop releases the context watch set up by Subscribe. Guarded by mu.
	stop func() bool
}

// Next returns the next event, blocking until one is available, the
// subscription ends, or ctx is done. Events come in revision order, each
// once. After the subscription ends Next keeps returning its error:
// *CompactedError (ErrCompacted), ErrSlowSubscriber, ErrStopped, ErrClosed,
// or a wrapped store error; on any of them but ErrCompacted the caller
// resubscribes from the revision of the last event it received. An error
// from ctx leaves the subscription running.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			ev := s.queue[0]
			s.queue[0] = Event{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			signal(s.space)
			return ev, nil
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return Event{}, err
		}
		select {
		case <-s.ready:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// Close ends the subscription and drops its undelivered events; Next then
// returns ErrClosed. It is idempotent.
func (s *Subscription) Close() {
	s.hub.remove(s)
	s.mu.Lock()
	s.queue = nil
	s.err = ErrClosed
	stop := s.stop
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	if s.cancel != nil {
		s.cancel()
	}
	signal(s.ready)
	signal(s.space)
}

// watchContext closes s when ctx is done.
func (s *Subscription) watchContext(ctx context.Context) {
	stop := context.AfterFunc(ctx, s.Close)
	s.mu.Lock()
	ended := s.err != nil
	if !ended {
		s.stop = stop
	}
	s.mu.Unlock()
	if ended {
		stop()
	}
}

// end records err as the reason the subscription ended, unless one is
// already recorded.
func (s *Subscription) end(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	signal(s.ready)
	signal(s.space)
}

// match returns the events of b that the filter selects.
func (s *Subscription) match(b batch) []Event {
	if s.filter == nil {
		return b.events
	}
	var out []Event
	for _, e := range b.events {
		if s.filter(e.Key) {
			out = append(out, e)
		}
	}
	return out
}

// fitsLocked reports whether n more events may be queued: always when the
// queue is empty (so a transaction larger than the buffer still goes
// through), otherwise while the buffer holds them.
func (s *Subscription) fitsLocked(n int) bool {
	return len(s.queue) == 0 || len(s.queue)+n <= s.buffer
}

// offer queues the selected events of live batch b, or ends the
// subscription with ErrSlowSubscriber when they do not fit. It reports
// whether the subscription is still live. Called with hub.mu held.
func (s *Subscription) offer(b batch) bool {
	if b.rev <= s.last {
		return true
	}
	evs := s.match(b)
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return false
	}
	if len(evs) > 0 && !s.fitsLocked(len(evs)) {
		s.mu.Unlock()
		s.hub.log.Warn("subscriber too slow; ending its subscription", "id", s.id, "revision", s.last, "queued", s.buffer)
		s.end(ErrSlowSubscriber)
		return false
	}
	s.queue = append(s.queue, evs...)
	s.last = b.rev
	s.mu.Unlock()
	if len(evs) > 0 {
		signal(s.ready)
	}
	return true
}

// offerWait queues the selected events of history batch b, waiting for
// buffer space. It reports false when the subscription ended or ctx is done
// (then the subscription is ended with ErrStopped).
func (s *Subscription) offerWait(ctx context.Context, b batch) bool {
	evs := s.match(b)
	for {
		s.mu.Lock()
		if s.err != nil {
			s.mu.Unlock()
			return false
		}
		if len(evs) == 0 || s.fitsLocked(len(evs)) {
			s.queue = append(s.queue, evs...)
			s.last = b.rev
			s.mu.Unlock()
			if len(evs) > 0 {
				signal(s.ready)
			}
			return true
		}
		s.mu.Unlock()
		select {
		case <-s.space:
		case <-ctx.Done():
			s.end(ErrStopped)
			return false
		}
	}
}

// fill queues, without a buffer check, the selected events of every batch
// after s.last. Used when a subscription starts, its queue empty. Called
// with hub.mu held.
func (s *Subscription) fill(ring []batch) {
	s.mu.Lock()
	s.appendLocked(ring)
	s.mu.Unlock()
	signal(s.ready)
}

type fillResult int

const (
	fillWait fillResult = iota
	fillDone
	fillEnded
)

// tryFill queues the selected events of every batch after s.last if they
// fit. Called with hub.mu held.
func (s *Subscription) tryFill(ring []batch) fillResult {
	n := 0
	for _, b := range ring {
		if b.rev > s.last {
			n += len(s.match(b))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.err != nil:
		return fillEnded
	case n > 0 && !s.fitsLocked(n):
		return fillWait
	}
	if s.appendLocked(ring) {
		signal(s.ready)
	}
	return fillDone
}

// appendLocked appends the selected events of every batch after s.last and
// reports whether it appended any. Called with s.mu held.
func (s *Subscription) appendLocked(ring []batch) bool {
	added := false
	for _, b := range ring {
		if b.rev <= s.last {
			continue
		}
		evs := s.match(b)
		s.queue = append(s.queue, evs...)
		s.last = b.rev
		added = added || len(evs) > 0
	}
	return added
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
