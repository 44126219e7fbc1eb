package apiserver

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/watchhub"
)

func event(rev int64, key, hash string) watchhub.Event {
	if hash == "" {
		return watchhub.Event{Revision: rev, Key: key, Deleted: true}
	}
	return watchhub.Event{Revision: rev, Key: key, Value: []byte(`{"name":"a/0","password-hash":"` + hash + `"}`)}
}

// TestCredCacheNewerRevisionWins: whichever of a read and a watch event
// arrives first, the cache ends with the newer one; reads from before the
// subscription's baseline, or while it is not live, never fill it; a
// reset drops everything and ignores the cut subscription's events.
func TestCredCacheNewerRevisionWins(t *testing.T) {
	const key = "/troupe/m/u1/unit/a/0"
	now := time.Unix(1000, 0)
	c := newCredCache(func() time.Time { return now })
	want := func(label, hash string, cached bool) {
		t.Helper()
		f, ok := c.lookup(key)
		if ok != cached || f.Hash != hash {
			t.Errorf("%s: lookup = %q, %v; want %q, %v", label, f.Hash, ok, hash, cached)
		}
	}

	c.fill(key, 10, credFields{Hash: "h10"})
	want("fill before the subscription is live", "", false)

	c.start(0, 20)
	c.fill(key, 15, credFields{Hash: "h15"})
	want("fill from a read older than the baseline", "", false)

	c.fill(key, 25, credFields{Hash: "h25"})
	want("fill after the baseline", "h25", true)
	c.apply(0, event(24, key, "h24"))
	want("event older than the read", "h25", true)
	c.apply(0, event(30, key, "h30"))
	want("newer event", "h30", true)
	c.fill(key, 28, credFields{Hash: "h28"})
	want("read older than the applied event", "h30", true)

	const other = "/troupe/m/u1/machine/0"
	c.apply(0, event(40, other, "m40"))
	c.fill(other, 35, credFields{Hash: "m35"}) // read begun before the change
	if f, _ := c.lookup(other); f.Hash != "m40" {
		t.Errorf("an uncached key's event must still win over an older read: %q", f.Hash)
	}

	c.apply(0, event(50, key, ""))
	want("deleted", "", false)
	c.fill(key, 45, credFields{Hash: "h45"})
	want("read from before the deletion", "", false)
	now = now.Add(2 * tombstoneTTL)
	c.apply(0, event(60, other, "m60")) // prunes the tombstone
	c.fill(key, 48, credFields{Hash: "h48"})
	want("read from before a pruned tombstone", "", false)
	c.fill(key, 61, credFields{Hash: "h61"})
	want("read after the pruned tombstone", "h61", true)

	c.reset()
	want("after reset", "", false)
	c.start(0, 70) // the cut subscription's baseline, late
	c.apply(0, event(71, key, "h71"))
	c.fill(key, 72, credFields{Hash: "h72"})
	want("events of a cut subscription", "", false)
	c.start(1, 80)
	c.fill(key, 81, credFields{Hash: "h81"})
	want("the new subscription", "h81", true)
}

func TestIsCredentialKey(t *testing.T) {
	for key, want := range map[string]bool{
		entity.UnitKey("u1", "a/0"):         true,
		entity.MachineKey("u1", "0"):        true,
		entity.MachineKey("u1", "0/lxd/1"):  true,
		entity.ApplicationKey("u1", "a"):    false,
		entity.UserKey("admin"):             true,
		entity.ModelPrefix("u1") + "unit":   false,
		store.Prefix + "m/u1":               false,
		"/other/m/u1/unit/a/0":              false,
		entity.ModelPrefix("u1") + "unitx/": false,
	} {
		if got := isCredentialKey(key); got != want {
			t.Errorf("isCredentialKey(%q) = %v, want %v", key, got, want)
		}
	}
}

type countGets struct{ gets atomic.Int64 }

func (c *countGets) ObserveStore(op string, _ time.Duration, _ error) {
	if op == "get" {
		c.gets.Add(1)
	}
}

// TestCredentialCacheFollowsTheStore drives checkCredentials against a real
// store and hub: a second call of an agent reads nothing from the store; a
// credential changed or deleted behind the server's back is refused once
// the hub delivered the change, and a new one is accepted at once (a miss
// reads the store).
func TestCredentialCacheFollowsTheStore(t *testing.T) {
	obs := &countGets{}
	st, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hub, err := watchhub.New(watchhub.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); _ = hub.Run(ctx) }()
	s := New(Config{Store: st, Hub: hub})
	cacheDone := make(chan struct{})
	go func() { defer close(cacheDone); _ = s.RunCredentialCache(ctx) }()
	defer func() { cancel(); <-cacheDone; <-hubDone }()

	model := entity.NewUUID()
	tag := entity.Tag{Kind: entity.KindUnit, Name: "a/0", Model: model}
	key := entity.UnitKey(model, "a/0")
	write := func(pw string) {
		t.Helper()
		var op store.Op
		if pw == "" {
			op = store.Delete(key)
		} else if op, err = store.Put(key, entity.Unit{Name: "a/0", PasswordHash: entity.HashPassword(pw)}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Commit(context.Background(), op); err != nil {
			t.Fatal(err)
		}
	}
	call := func(pw string) error {
		ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(api.MDTag, tag.String(), api.MDPassword, pw))
		_, err := s.checkCredentials(ctx)
		return err
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s", what)
			}
		}
	}
	eventually("the cache is live", func() bool {
		s.creds.mu.Lock()
		defer s.creds.mu.Unlock()
		return s.creds.live
	})

	write("one")
	if err := call("one"); err != nil {
		t.Fatalf("first call: %v", err)
	}
	before := obs.gets.Load()
	for range 20 {
		if err := call("one"); err != nil {
			t.Fatalf("cached call: %v", err)
		}
	}
	if n := obs.gets.Load() - before; n != 0 {
		t.Errorf("20 calls with a cached credential read the store %d times; want 0", n)
	}

	write("two") // rotated behind the server's back
	if err := call("two"); err != nil {
		t.Errorf("new credential before the watch delivered it: %v", err)
	}
	eventually("the old credential is refused", func() bool { return status.Code(call("one")) == codes.Unauthenticated })
	before = obs.gets.Load()
	if err := call("two"); err != nil {
		t.Errorf("new credential: %v", err)
	}
	if n := obs.gets.Load() - before; n != 0 {
		t.Errorf("the new credential is not served from the cache (%d reads)", n)
	}

	write("")
	eventually("a deleted unit's credential is refused", func() bool { return status.Code(call("two")) == codes.Unauthenticated })
}

// TestCredCacheUsersAreCopies: a user read from the cache is the
// caller's own: changing its access changes neither the cache nor the
// document it was filled from.
func TestCredCacheUsersAreCopies(t *testing.T) {
	key := entity.UserKey("bob")
	c := newCredCache(nil)
	c.start(0, 1)
	filled := &entity.User{Name: "bob", PasswordHash: "h", Access: map[string]entity.Access{"m1": "read"}}
	c.fill(key, 2, credFields{Hash: filled.PasswordHash, User: filled})
	filled.Access["m1"] = "admin"
	got, ok := c.lookup(key)
	if !ok || got.User == nil || got.User.Access["m1"] != "read" {
		t.Fatalf("lookup after the filler changed its copy: %+v, %v", got.User, ok)
	}
	got.User.Access["m1"] = "admin"
	if again, _ := c.lookup(key); again.User.Access["m1"] != "read" {
		t.Fatalf("a caller's change reached the cache: %+v", again.User)
	}
	c.apply(0, watchhub.Event{Revision: 3, Key: key, Value: []byte(`{"name":"bob","password-hash":"h2","access":{"m1":"write"}}`)})
	if u, _ := c.lookup(key); u.Hash != "h2" || u.User.Access["m1"] != "write" {
		t.Fatalf("after a user event: %+v", u)
	}
}
