package uniter

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

// Agent status delivery. The executor sets the agent status `executing`
// before every hook while it holds the machine lock; sending it there
// cost a controller round trip (an etcd commit through the unit's actor)
// per hook under the lock, about a third of the lock's hold time in a
// large deploy. statusSender sends agent statuses from a goroutine of its
// own, one at a time in the order they were set, while the hook runs.
//
// Order with everything else the unit tells the controller is kept by
// flush: the outbox's delivery (hook commits, workload status-set, logs)
// first waits until every agent status set before it was sent, so the
// controller sees "executing running start hook" before that hook's
// status-set and commit, exactly as when it was sent inline.
//
// A status the controller could not be reached for is kept as unsent
// (the latest one only: it describes the agent's present), and the run
// loop sends it once the controller answers again (resendUnsent). Any
// other refusal is returned by the next flush, which fails the delivery
// and so stops the uniter as a failed inline send did.
type statusSender struct {
	send func(context.Context, *apipb.StatusInfo) error
	log  *slog.Logger
	unit string

	mu      sync.Mutex
	queue   []*apipb.StatusInfo
	sending bool              // a status taken off the queue is being sent
	unsent  *apipb.StatusInfo // the latest status the controller was unreachable for
	err     error             // a refusal not reported yet (by flush)
	waiters []chan struct{}   // flushes waiting for the queue to drain
	kick    chan struct{}     // wakes run
	// Unsent is signalled when a status was found unsent, so that the
	// run loop, which may be waiting already, arms its retry.
	Unsent chan struct{}
}

func newStatusSender(unit string, log *slog.Logger, send func(context.Context, *apipb.StatusInfo) error) *statusSender {
	return &statusSender{send: send, log: log, unit: unit, kick: make(chan struct{}, 1), Unsent: make(chan struct{}, 1)}
}

// set queues st for sending; it supersedes any unsent status.
func (s *statusSender) set(st *apipb.StatusInfo) {
	s.mu.Lock()
	s.queue = append(s.queue, st)
	s.unsent = nil
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// run sends queued statuses until ctx is done.
func (s *statusSender) run(ctx context.Context) {
	defer s.release()
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.releaseLocked()
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-s.kick:
			}
			continue
		}
		st := s.queue[0]
		s.queue = s.queue[1:]
		s.sending = true
		s.mu.Unlock()

		err := s.send(ctx, st)

		s.mu.Lock()
		s.sending = false
		switch {
		case err == nil:
			if st == s.unsent {
				s.unsent = nil
			}
		case ctx.Err() != nil:
		case unreachable(err):
			if len(s.queue) == 0 && s.unsent != st {
				s.log.Info("agent status not sent: controller unreachable", "unit", s.unit, "status", st.Current)
				s.unsent = st
				select {
				case s.Unsent <- struct{}{}:
				default:
				}
			}
		default:
			if s.err == nil {
				s.err = fmt.Errorf("cannot set agent status %q: %w", st.Current, err)
			}
		}
		s.mu.Unlock()
	}
}

// releaseLocked wakes the flushes when nothing is queued or in flight.
func (s *statusSender) releaseLocked() {
	if len(s.queue) > 0 || s.sending {
		return
	}
	for _, w := range s.waiters {
		close(w)
	}
	s.waiters = nil
}

// release wakes every flush: run is ending (ctx done), nothing more will
// be sent.
func (s *statusSender) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = nil
	for _, w := range s.waiters {
		close(w)
	}
	s.waiters = nil
}

// flush waits until every status set so far was sent (or found the
// controller unreachable) and returns a refusal met meanwhile.
func (s *statusSender) flush(ctx context.Context) error {
	s.mu.Lock()
	if len(s.queue) == 0 && !s.sending {
		err := s.err
		s.err = nil
		s.mu.Unlock()
		return err
	}
	w := make(chan struct{})
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	select {
	case <-w:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.err
	s.err = nil
	return err
}

// hasUnsent reports whether a status waits for the controller to come back.
func (s *statusSender) hasUnsent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unsent != nil
}

// resendUnsent queues the unsent status again (the run loop, once the
// controller answers); it stays unsent until a send of it succeeds, so
// the loop keeps its retry timer armed meanwhile.
func (s *statusSender) resendUnsent() {
	s.mu.Lock()
	st := s.unsent
	if st != nil && !slices.Contains(s.queue, st) {
		s.queue = append(s.queue, st)
	}
	s.mu.Unlock()
	if st != nil {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}
