package watchhub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/troupe-dev/troupe/internal/store"
)

// Event is one change under the hub's prefix, or the baseline marker that
// opens a subscription made from "now" (see IsBaseline).
type Event struct {
	// Revision is the etcd revision of the change. Changes written by one
	// transaction share a revision.
	Revision int64
	// Key is the changed key; empty on the baseline marker.
	Key string
	// Value is the new value; nil when Deleted. It is shared between
	// subscribers and must not be modified.
	Value []byte
	// Deleted is true when the key was deleted.
	Deleted bool
}

// IsBaseline reports whether e is the baseline marker: the first event of a
// subscription made with FromRevision 0, saying "every change after
// Revision follows".
func (e Event) IsBaseline() bool { return e.Key == "" }

// Config configures a Hub.
type Config struct {
	// Store is the controller's store; the hub watches it through
	// Store.Client(). Required.
	Store *store.Store
	// Prefix is the key prefix the hub watches. Zero means store.Prefix.
	Prefix string
	// Logger receives the hub's diagnostics. Nil discards them.
	Logger *slog.Logger
	// Buffer is how many undelivered events a live subscriber may hold
	// before it is ended with ErrSlowSubscriber. Zero means 256.
	Buffer int
	// History is how many recent events the hub keeps in memory to serve
	// resuming subscribers without reading etcd. Zero means 4096.
	History int
	// KeepRevisions, when positive, is the compaction policy: each time
	// the hub has seen the store move KeepRevisions past its last
	// compaction, it compacts etcd's history to the current revision
	// minus KeepRevisions. Zero leaves compaction to the store's own
	// periodic policy (store.Config.CompactionRetention).
	KeepRevisions int64
}

// Validate reports whether the configuration is usable.
func (c Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("watchhub: no store given")
	case c.Buffer < 0:
		return fmt.Errorf("watchhub: buffer %d is negative", c.Buffer)
	case c.History < 0:
		return fmt.Errorf("watchhub: history %d is negative", c.History)
	case c.KeepRevisions < 0:
		return fmt.Errorf("watchhub: keep-revisions %d is negative", c.KeepRevisions)
	}
	return nil
}

// SubscribeRequest says which events a subscriber wants.
type SubscribeRequest struct {
	// Filter selects events by key. Nil selects every event under the
	// hub's prefix. It is called from the hub's goroutines and must be
	// cheap and must not block.
	Filter func(key string) bool
	// FromRevision is the revision the subscriber has already seen: it
	// receives every selected change with a greater revision. Zero means
	// "from now": the subscription opens with a baseline marker holding
	// the store's current revision.
	FromRevision int64
}

// batch is the events of one revision, in etcd's order.
type batch struct {
	rev    int64
	events []Event
}

// Hub runs one etcd watch on a prefix and fans its events out to
// subscribers. Create it with New, run it with Run; Subscribe is safe for
// concurrent use.
type Hub struct {
	cfg    Config
	client *clientv3.Client
	log    *slog.Logger

	started chan struct{} // closed once Run's watch is open
	stopped chan struct{} // closed when Run has returned

	// wg counts history (catch-up) goroutines; Run waits for them.
	wg sync.WaitGroup

	mu sync.Mutex
	// running is set by the first Run. Guarded by mu.
	running bool
	// down is set when Run is returning; no subscription starts after.
	// Guarded by mu.
	down bool
	// runCtx is Run's context, parent of every history watch. Guarded by mu.
	runCtx context.Context
	// head is the revision of the newest batch the hub has published, or
	// the revision it started watching from. Guarded by mu.
	head int64
	// oldest is the revision after which ring holds every event: ring
	// covers (oldest, head]. Guarded by mu.
	oldest int64
	// ring is the recent history, oldest first. Guarded by mu.
	ring []batch
	// ringEvents is the number of events in ring. Guarded by mu.
	ringEvents int
	// subs are the live subscriptions. Guarded by mu.
	subs map[*Subscription]struct{}
	// nextID numbers subscriptions for the logs. Guarded by mu.
	nextID uint64

	// compacted is the revision of the hub's last compaction. Owned by
	// Run's goroutine.
	compacted int64
}

// New returns a hub that does nothing until Run is called.
func New(cfg Config) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = store.Prefix
	}
	if cfg.Buffer == 0 {
		cfg.Buffer = 256
	}
	if cfg.History == 0 {
		cfg.History = 4096
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		cfg:     cfg,
		client:  cfg.Store.Client(),
		log:     log.With("prefix", cfg.Prefix),
		started: make(chan struct{}),
		stopped: make(chan struct{}),
		subs:    make(map[*Subscription]struct{}),
	}, nil
}

// Run watches the store and fans events out until ctx is cancelled, then
// ends every subscription with ErrStopped, waits for every goroutine it
// started, and returns nil. It returns an error when the store watch fails
// (including when the hub itself fell behind a compaction); subscriptions
// end with ErrStopped then too, and the owner may make a new Hub. A Hub
// runs once: a second Run returns an error at once.
func (h *Hub) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.running {
		h.mu.Unlock()
		return errors.New("watchhub: hub already ran; make a new one with New")
	}
	h.running = true
	runCtx, cancel := context.WithCancel(ctx)
	h.runCtx = runCtx
	h.mu.Unlock()
	defer h.shutdown(cancel)

	rev, err := h.currentRevision(runCtx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	wc := h.client.Watch(runCtx, h.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	h.mu.Lock()
	h.head, h.oldest = rev, rev
	h.mu.Unlock()
	h.compacted = rev
	close(h.started)
	h.log.Debug("watch hub started", "revision", rev)

	for {
		select {
		case <-ctx.Done():
			return nil
		case resp, ok := <-wc:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("watchhub: store watch on %q closed unexpectedly; restart the hub", h.cfg.Prefix)
			}
			if err := resp.Err(); err != nil {
				return fmt.Errorf("watchhub: store watch on %q failed: %w", h.cfg.Prefix, err)
			}
			for _, b := range group(resp.Events) {
				h.publish(b)
			}
			if resp.Header != nil {
				h.compact(runCtx, resp.Header.Revision)
			}
		}
	}
}

// shutdown ends every subscription and waits for the history goroutines.
func (h *Hub) shutdown(cancel context.CancelFunc) {
	h.mu.Lock()
	h.down = true
	subs := h.subs
	h.subs = map[*Subscription]struct{}{}
	h.ring = nil
	h.mu.Unlock()
	for s := range subs {
		s.end(ErrStopped)
	}
	cancel()
	h.wg.Wait()
	close(h.stopped)
	h.log.Debug("watch hub stopped")
}

func (h *Hub) currentRevision(ctx context.Context) (int64, error) {
	resp, err := h.client.Get(ctx, h.cfg.Prefix, clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("watchhub: cannot read the store's revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// compact applies the KeepRevisions policy at store revision rev. A failed
// compaction is logged and retried on a later response: etcd's own
// periodic compaction still bounds its history.
func (h *Hub) compact(ctx context.Context, rev int64) {
	keep := h.cfg.KeepRevisions
	if keep <= 0 || rev-keep < h.compacted+keep {
		return
	}
	target := rev - keep
	if _, err := h.client.Compact(ctx, target); err != nil && !isCompacted(err) {
		if ctx.Err() == nil {
			h.log.Warn("cannot compact store history", "revision", target, "err", err)
		}
		return
	}
	h.compacted = target
	h.log.Debug("compacted store history", "revision", target)
}

// publish records b in the ring and offers it to every live subscription,
// ending those that overflow.
func (h *Hub) publish(b batch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ring = append(h.ring, b)
	h.ringEvents += len(b.events)
	h.head = b.rev
	for h.ringEvents > h.cfg.History {
		h.oldest = h.ring[0].rev
		h.ringEvents -= len(h.ring[0].events)
		h.ring[0] = batch{}
		h.ring = h.ring[1:]
	}
	for s := range h.subs {
		if !s.offer(b) {
			delete(h.subs, s)
		}
	}
}

// Subscribe starts a subscription; see SubscribeRequest for what it
// delivers. ctx bounds the subscription's whole life, not only this call:
// when it is done the subscription is closed. Subscribe waits for Run to
// open its watch; it returns ErrStopped once the hub has stopped.
//
// When FromRevision is older than the hub's memory, the subscription first
// reads the history from etcd, then joins the live stream; if that history
// is compacted the subscription ends with a *CompactedError (ErrCompacted).
func (h *Hub) Subscribe(ctx context.Context, req SubscribeRequest) (*Subscription, error) {
	from := req.FromRevision
	if from < 0 {
		return nil, fmt.Errorf("watchhub: cannot subscribe from negative revision %d", from)
	}
	select {
	case <-h.started:
	case <-h.stopped:
		return nil, ErrStopped
	case <-ctx.Done():
		return nil, fmt.Errorf("watchhub: hub did not start: %w", ctx.Err())
	}
	var now int64
	if from == 0 {
		var err error
		if now, err = h.currentRevision(ctx); err != nil {
			return nil, err
		}
	}
	s := &Subscription{
		hub:    h,
		filter: req.Filter,
		buffer: h.cfg.Buffer,
		ready:  make(chan struct{}, 1),
		space:  make(chan struct{}, 1),
	}
	h.mu.Lock()
	if h.down {
		h.mu.Unlock()
		return nil, ErrStopped
	}
	h.nextID++
	s.id = h.nextID
	switch {
	case from == 0:
		s.last = max(now, h.head)
		s.queue = append(s.queue, Event{Revision: s.last})
		signal(s.ready)
		h.subs[s] = struct{}{}
	case from >= h.oldest:
		s.last = from
		s.fill(h.ring)
		h.subs[s] = struct{}{}
	default:
		s.last = from
		cctx, cancel := context.WithCancel(h.runCtx)
		s.cancel = cancel
		h.wg.Add(1)
		go h.catchUp(cctx, s)
		h.log.Debug("subscription reads history from the store", "id", s.id, "from", from, "memory-from", h.oldest)
	}
	h.mu.Unlock()
	s.watchContext(ctx)
	return s, nil
}

// remove takes s off the live stream.
func (h *Hub) remove(s *Subscription) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

// catchUp feeds s from an etcd watch on the hub's prefix starting after
// s.last, blocking while s's buffer is full, until the hub's memory covers
// what s still needs; then s joins the live stream. It owns s.last until
// then.
func (h *Hub) catchUp(ctx context.Context, s *Subscription) {
	defer h.wg.Done()
	defer s.cancel()
	from := s.last
	wc := h.client.Watch(ctx, h.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithRev(from+1))
	for resp := range wc {
		if resp.CompactRevision != 0 {
			s.end(&CompactedError{From: from, CompactRevision: resp.CompactRevision})
			return
		}
		if err := resp.Err(); err != nil {
			s.end(fmt.Errorf("watchhub: cannot read history after revision %d: %w; resubscribe from the last revision received", s.last, err))
			return
		}
		for _, b := range group(resp.Events) {
			if !s.offerWait(ctx, b) {
				return
			}
		}
		if len(resp.Events) > 0 && h.join(ctx, s) {
			return
		}
	}
	if ctx.Err() != nil {
		s.end(ErrStopped)
		return
	}
	s.end(errors.New("watchhub: history watch closed unexpectedly; resubscribe from the last revision received"))
}

// join moves s onto the live stream once the ring covers every revision
// after s.last, waiting for buffer space if the ring's tail does not fit.
// It reports whether s left the catch-up (joined or ended).
func (h *Hub) join(ctx context.Context, s *Subscription) bool {
	for {
		h.mu.Lock()
		if h.down {
			h.mu.Unlock()
			s.end(ErrStopped)
			return true
		}
		if s.last < h.oldest {
			h.mu.Unlock()
			return false
		}
		switch s.tryFill(h.ring) {
		case fillEnded:
			h.mu.Unlock()
			return true
		case fillDone:
			h.subs[s] = struct{}{}
			h.mu.Unlock()
			h.log.Debug("subscription joined the live stream", "id", s.id, "revision", s.last)
			return true
		}
		h.mu.Unlock()
		select {
		case <-s.space:
		case <-ctx.Done():
			s.end(ErrStopped)
			return true
		}
	}
}

// group splits etcd events into per-revision batches. etcd never splits a
// revision across watch responses (the hub asks for no fragmenting).
func group(evs []*clientv3.Event) []batch {
	var out []batch
	for _, ev := range evs {
		e := Event{
			Revision: ev.Kv.ModRevision,
			Key:      string(ev.Kv.Key),
			Deleted:  ev.Type == clientv3.EventTypeDelete,
		}
		if !e.Deleted {
			e.Value = ev.Kv.Value
		}
		if n := len(out); n > 0 && out[n-1].rev == e.Revision {
			out[n-1].events = append(out[n-1].events, e)
			continue
		}
		out = append(out, batch{rev: e.Revision, events: []Event{e}})
	}
	return out
}
