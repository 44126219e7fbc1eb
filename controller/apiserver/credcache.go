package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/watchhub"
)

// Agent credential cache.
//
// Every agent call is authenticated against the hash in the agent's own
// document (auth.go). Reading that document from etcd on every call is a
// linearizable read — a raft round queued behind the commits — for each
// of the hundreds of calls a second a busy model's agents make. credCache
// keeps the credential fields of unit and machine documents (and whole
// user documents) in memory, kept current by one watch-hub subscription
// on those keys.
//
// Correctness rests on revisions, not on timing:
//   - every entry carries the revision its content is from, and a newer
//     revision always wins, whichever arrives first (an event from the
//     hub, or a read that filled the entry);
//   - events are applied for every unit and machine key, cached or not,
//     so a read that started before a change cannot fill the entry after
//     the change's event was applied;
//   - the cache answers only while its subscription is live; reads from
//     before the subscription's baseline cannot fill it; when the
//     subscription ends, everything is dropped;
//   - it only ever speeds up success: a password that does not match the
//     cached hash is checked again against a fresh read (a credential
//     just issued), and the server refreshes an entry itself right after
//     it revoked or promoted a credential, so a revoked password is
//     refused by the very next call.

// credFields is the part of a unit or machine document the cache keeps;
// for a user document, the whole user too (the caller's access).
type credFields struct {
	Hash    string       `json:"password-hash"`
	Pending string       `json:"pending-password-hash"`
	User    *entity.User `json:"-"`
}

// decodeCredFields reads the cached fields of the document at key.
func decodeCredFields(key string, data []byte) (credFields, error) {
	if !isUserKey(key) {
		var f credFields
		err := json.Unmarshal(data, &f)
		return f, err
	}
	var u entity.User
	if err := json.Unmarshal(data, &u); err != nil {
		return credFields{}, err
	}
	return credFields{Hash: u.PasswordHash, User: &u}, nil
}

// userPrefix holds the user documents.
var userPrefix = entity.UserKey("")

func isUserKey(key string) bool { return strings.HasPrefix(key, userPrefix) }

// withOwnUser is f with a copy of its user (Access map included), so
// that the cache's entries and what callers hold never share one.
func (f credFields) withOwnUser() credFields {
	if f.User != nil {
		u := *f.User
		u.Access = maps.Clone(u.Access)
		f.User = &u
	}
	return f
}

type credEntry struct {
	rev int64
	credFields
	gone   bool      // the document was deleted at rev
	goneAt time.Time // when the tombstone was made (pruning)
}

// tombstoneTTL is how long the cache remembers a deleted document; older
// tombstones are pruned, and no read from before the newest pruned one
// may fill the cache.
const tombstoneTTL = time.Minute

type credCache struct {
	now func() time.Time

	mu       sync.Mutex
	live     bool  // the subscription is running: lookups and fills allowed
	baseline int64 // fills from reads older than this are refused
	entries  map[string]*credEntry
	pruned   time.Time          // when tombstones were last pruned
	cancel   context.CancelFunc // ends the current subscription (reset)
	gen      uint64             // bumped by reset: a cut subscription's events are ignored
}

func newCredCache(now func() time.Time) *credCache {
	if now == nil {
		now = time.Now
	}
	return &credCache{now: now, entries: map[string]*credEntry{}}
}

// isCredentialKey selects the documents credentials live in: units and
// machines of any model (/troupe/m/<uuid>/unit/… and …/machine/…), and
// users.
func isCredentialKey(key string) bool {
	if isUserKey(key) {
		return true
	}
	rest, ok := strings.CutPrefix(key, store.Prefix+"m/")
	if !ok {
		return false
	}
	_, rest, ok = strings.Cut(rest, "/")
	return ok && (strings.HasPrefix(rest, "unit/") || strings.HasPrefix(rest, "machine/"))
}

// lookup returns the cached credential fields of the document at key.
func (c *credCache) lookup(key string) (credFields, bool) {
	if c == nil {
		return credFields{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !c.live || !ok || e.gone {
		return credFields{}, false
	}
	return e.credFields.withOwnUser(), true
}

// fill records what a store read at revision rev found at key.
func (c *credCache) fill(key string, rev int64, f credFields) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || rev < c.baseline {
		return
	}
	if e, ok := c.entries[key]; ok && e.rev >= rev {
		return
	}
	c.entries[key] = &credEntry{rev: rev, credFields: f.withOwnUser()}
}

// start makes the cache answer, for a subscription whose baseline (every
// change after it follows) is rev.
func (c *credCache) start(gen uint64, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.live, c.baseline = true, rev
	}
}

// stop drops everything: the subscription ended, changes may be missed.
func (c *credCache) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = false
	c.entries = map[string]*credEntry{}
}

// apply records one change from the hub, from the subscription of
// generation gen.
func (c *credCache) apply(gen uint64, ev watchhub.Event) {
	var f credFields
	if !ev.Deleted {
		var err error
		if f, err = decodeCredFields(ev.Key, ev.Value); err != nil {
			// Unreadable: forget the key, the next call reads the store.
			f = credFields{}
			ev.Deleted = true
		}
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if e, ok := c.entries[ev.Key]; ok && e.rev >= ev.Revision {
		return
	}
	e := &credEntry{rev: ev.Revision, credFields: f, gone: ev.Deleted}
	if e.gone {
		e.goneAt = now
	}
	c.entries[ev.Key] = e
	if now.Sub(c.pruned) > tombstoneTTL/4 {
		c.pruned = now
		c.pruneLocked(now)
	}
}

// pruneLocked forgets tombstones older than tombstoneTTL, raising the
// baseline past them so that no older read can bring the document back.
func (c *credCache) pruneLocked(now time.Time) {
	for k, e := range c.entries {
		if e.gone && now.Sub(e.goneAt) > tombstoneTTL {
			if e.rev > c.baseline {
				c.baseline = e.rev
			}
			delete(c.entries, k)
		}
	}
}

// reset drops everything and makes run subscribe again, from a baseline
// later than any change committed before reset: for when the server
// changed a credential and could not read the result back.
func (c *credCache) reset() {
	if c == nil {
		return
	}
	c.mu.Lock()
	cancel := c.cancel
	c.gen++
	c.live = false
	c.entries = map[string]*credEntry{}
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// run keeps the cache current from the hub until ctx ends. When its
// subscription ends (a slow subscriber, compaction) it drops everything
// and subscribes again from now.
func (c *credCache) run(ctx context.Context, hub *watchhub.Hub) error {
	defer c.stop()
	for ctx.Err() == nil {
		err := c.follow(ctx, hub)
		c.stop()
		if ctx.Err() != nil || errors.Is(err, watchhub.ErrStopped) {
			return nil
		}
		if errors.Is(err, context.Canceled) {
			continue // reset: subscribe again at once
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

func (c *credCache) follow(ctx context.Context, hub *watchhub.Hub) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.mu.Lock()
	c.cancel = cancel
	gen := c.gen
	c.mu.Unlock()
	sub, err := hub.Subscribe(ctx, watchhub.SubscribeRequest{Filter: isCredentialKey})
	if err != nil {
		return err
	}
	defer sub.Close()
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			return err
		}
		if ev.IsBaseline() {
			c.start(gen, ev.Revision)
			continue
		}
		c.apply(gen, ev)
	}
}
