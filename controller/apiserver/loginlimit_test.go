package apiserver

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/controller/presence"
	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/entity"
)

func TestTokenBucket(t *testing.T) {
	now := time.Unix(100, 0)
	b := NewTokenBucket(2, 3, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if ok, _ := b.Take(); !ok {
			t.Fatalf("take %d of a full bucket of 3 refused", i)
		}
	}
	ok, wait := b.Take()
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("empty bucket at 2/s: ok=%v wait=%v, want refused, 500ms", ok, wait)
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := b.Take(); !ok {
		t.Fatal("one token refilled after 500ms at 2/s, refused")
	}
	now = now.Add(time.Hour)
	n := 0
	for {
		if ok, _ := b.Take(); !ok {
			break
		}
		n++
	}
	if n != 3 {
		t.Fatalf("refill is capped at the burst: took %d, want 3", n)
	}
	// Empty at 2/s: a reservation within 1s queues the caller (500ms,
	// then 1s), the third would wait 1.5s and is refused.
	if ok, wait := b.Reserve(time.Second); !ok || wait != 500*time.Millisecond {
		t.Fatalf("first reservation: ok=%v wait=%v", ok, wait)
	}
	if ok, wait := b.Reserve(time.Second); !ok || wait != time.Second {
		t.Fatalf("second reservation: ok=%v wait=%v", ok, wait)
	}
	if ok, wait := b.Reserve(time.Second); ok || wait != 1500*time.Millisecond {
		t.Fatalf("third reservation: ok=%v wait=%v, want refused, 1.5s", ok, wait)
	}
}

func TestPresenceStatus(t *testing.T) {
	idle := entity.Status{Current: "idle"}
	active := entity.Status{Current: "active", Message: "ready"}
	w, a := unitPresenceStatus("app/0", presence.Connected, time.Minute, active, idle)
	if w != active || a != idle {
		t.Fatalf("connected changes nothing: %v %v", w, a)
	}
	w, a = unitPresenceStatus("app/0", presence.Disconnected, time.Minute, active, idle)
	if w != active || a.Current != "disconnected" {
		t.Fatalf("disconnected keeps the workload, agent disconnected: %v %v", w, a)
	}
	w, a = unitPresenceStatus("app/0", presence.Lost, time.Minute, active, idle)
	if w.Current != "unknown" || w.Message != "agent lost, see 'juju show-status-log app/0'" || a.Current != "lost" || a.Message != msgNotCommunicating {
		t.Fatalf("lost as Juju: %v %v", w, a)
	}
	failed := entity.Status{Current: "error", Message: `hook failed: "install"`}
	if w, _ := unitPresenceStatus("app/0", presence.Lost, time.Minute, failed, idle); w != failed {
		t.Fatalf("an error workload stays: %v", w)
	}
	alloc := entity.Status{Current: "allocating"}
	if _, a := unitPresenceStatus("app/0", presence.Lost, time.Minute, active, alloc); a != alloc {
		t.Fatalf("a never-started agent is not lost: %v", a)
	}
	started := entity.Status{Current: "started"}
	if got := machinePresenceStatus(presence.Lost, time.Minute, started); got.Current != "down" {
		t.Fatalf("machine lost is down: %v", got)
	}
	if got := machinePresenceStatus(presence.Disconnected, time.Minute, started); got.Current != "disconnected" {
		t.Fatalf("machine disconnected: %v", got)
	}
	if got := machinePresenceStatus(presence.Lost, time.Minute, entity.Status{Current: "pending"}); got.Current != "pending" {
		t.Fatalf("pending machine stays pending: %v", got)
	}
}

// The calls an agent starts at once on a fresh connection are one login:
// they share one token. A second connection pays its own; a connection
// whose authentication failed pays again.
func TestConcurrentFirstCallsShareOneLogin(t *testing.T) {
	s := &Server{logins: NewTokenBucket(0.001, 10, nil)}
	agent := metadata.NewIncomingContext(context.Background(), metadata.Pairs(api.MDTag, "unit-m-app-0"))
	conn := func() context.Context {
		return connTagger{}.TagConn(agent, &stats.ConnTagInfo{})
	}
	tokensLeft := func() float64 {
		s.logins.mu.Lock()
		defer s.logins.mu.Unlock()
		return s.logins.tokens
	}
	c1 := conn()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := s.throttleLogin(c1); err != nil {
				t.Errorf("first calls on one connection: %v", err)
			}
		})
	}
	wg.Wait()
	if got := tokensLeft(); got < 8.99 || got > 9.01 {
		t.Fatalf("8 concurrent first calls on one connection left %.2f of 10 tokens; want 9 (one login)", got)
	}
	if err := s.throttleLogin(conn()); err != nil {
		t.Fatal(err)
	}
	if got := tokensLeft(); got < 7.99 || got > 8.01 {
		t.Fatalf("a second connection left %.2f tokens; want 8", got)
	}
	loginFailed(c1)
	if err := s.throttleLogin(c1); err != nil {
		t.Fatal(err)
	}
	if got := tokensLeft(); got < 6.99 || got > 7.01 {
		t.Fatalf("after a failed authentication the connection's next call left %.2f tokens; want 7 (a new login)", got)
	}
	loggedIn(c1)
	loginFailed(c1) // a later failure on a logged-in connection
	for range 3 {
		if err := s.throttleLogin(c1); err != nil {
			t.Fatal(err)
		}
	}
	if got := tokensLeft(); got < 6.99 || got > 7.01 {
		t.Fatalf("calls on a logged-in connection took tokens: %.2f left, want 7", got)
	}
}

// Agents sharing one transport (a machine agent's process, api.Pool) log
// in each on their own: a login is a (connection, tag) pair's first
// call, so every agent on the connection pays one token, once, and one
// agent's login does not wave the next one through; a tag whose
// authentication failed leaves nothing behind on the connection.
func TestSharedConnectionLoginsPerAgent(t *testing.T) {
	s := &Server{logins: NewTokenBucket(0.001, 10, nil)}
	conn := connTagger{}.TagConn(context.Background(), &stats.ConnTagInfo{})
	as := func(tag string) context.Context {
		return metadata.NewIncomingContext(conn, metadata.Pairs(api.MDTag, tag))
	}
	tokensLeft := func() float64 {
		s.logins.mu.Lock()
		defer s.logins.mu.Unlock()
		return s.logins.tokens
	}
	tags := []string{"machine-m-0", "unit-m-app-0", "unit-m-app-1"}
	for _, tag := range tags {
		for range 3 {
			if err := s.throttleLogin(as(tag)); err != nil {
				t.Fatal(err)
			}
		}
		loggedIn(as(tag))
	}
	if got := tokensLeft(); got < 6.99 || got > 7.01 {
		t.Fatalf("three agents on one connection left %.2f of 10 tokens; want 7 (one login each)", got)
	}
	for _, tag := range tags {
		if err := s.throttleLogin(as(tag)); err != nil {
			t.Fatal(err)
		}
	}
	if got := tokensLeft(); got < 6.99 || got > 7.01 {
		t.Fatalf("logged-in agents' later calls took tokens: %.2f left, want 7", got)
	}
	ct := conn.Value(connTagKey{}).(*connTag)
	if err := s.throttleLogin(as("unit-m-bogus-0")); err != nil {
		t.Fatal(err)
	}
	loginFailed(as("unit-m-bogus-0"))
	ct.mu.Lock()
	n := len(ct.logins)
	ct.mu.Unlock()
	if n != len(tags) {
		t.Errorf("the connection holds %d logins after a failed one; want the %d agents that logged in", n, len(tags))
	}
	// The limiter refuses one agent without touching the others.
	s.logins = NewTokenBucket(0.001, 1, nil)
	s.logins.Take()
	if err := s.throttleLogin(as("unit-m-app-2")); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("a new agent with no token left: %v; want ResourceExhausted", err)
	}
	for _, tag := range tags {
		if err := s.throttleLogin(as(tag)); err != nil {
			t.Fatalf("%s, logged in on the connection, refused: %v", tag, err)
		}
	}
	ct.mu.Lock()
	_, kept := ct.logins["unit-m-app-2"]
	ct.mu.Unlock()
	if kept {
		t.Error("a refused login left its entry on the connection")
	}
}
