package entity_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/entity"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/internal/store"
)

// commitCounter counts the store's commits.
type commitCounter struct{ n atomic.Int64 }

func (c *commitCounter) ObserveStore(op string, _ time.Duration, _ error) {
	if op == "commit" {
		c.n.Add(1)
	}
}

// TestConcurrentWritesShareCommitsAndReplyOnlyWhenDurable sends 40
// increments at once: every caller gets a distinct value, none before
// that value is in the store (persist-then-apply), the final durable
// state has all 40, and the queued writes went to the store in far fewer
// than 40 commits (group commit; one commit per request would be 40).
func TestConcurrentWritesShareCommitsAndReplyOnlyWhenDurable(t *testing.T) {
	var commits commitCounter
	s, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true, Observer: &commits})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	op, _ := store.Put(store.Prefix+"doc", doc{N: 0})
	if _, err := s.Commit(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	pid := spawn(t, s, sys, &supervise.Strategy{})
	before := commits.n.Load()

	const n = 40
	futures := make([]*actor.Future, n)
	for i := range futures {
		futures[i] = sys.Root.RequestFuture(pid, &incr{}, 30*time.Second)
	}
	var got []int
	for i, f := range futures {
		res, err := f.Result()
		if err != nil {
			t.Fatalf("incr %d: %v", i, err)
		}
		v, ok := res.(int)
		if !ok {
			t.Fatalf("incr %d: reply %#v", i, res)
		}
		var d doc
		if _, err := s.Get(context.Background(), store.Prefix+"doc", &d); err != nil {
			t.Fatal(err)
		}
		if d.N < v {
			t.Fatalf("incr %d answered %d while the store holds N=%d: the reply ran ahead of what is durable", i, v, d.N)
		}
		got = append(got, v)
	}
	slices.Sort(got)
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("replies %v, want each of 1..%d once", got, n)
		}
	}
	var d doc
	if _, err := s.Get(context.Background(), store.Prefix+"doc", &d); err != nil || d.N != n {
		t.Fatalf("durable state %+v, %v; want N=%d", d, err, n)
	}
	used := commits.n.Load() - before
	t.Logf("%d concurrent writes in %d commits", n, used)
	if used > n/2 {
		t.Errorf("%d concurrent writes took %d commits; queued writes must share commits", n, used)
	}
	if v, err := supervise.Ask[int](sys.Root, pid, &get{}, 5*time.Second); err != nil || v != n {
		t.Fatalf("get after the writes: %d, %v; want %d", v, err, n)
	}
}

// TestQueuedRequestsSurviveARestart: a panic while writes are queued
// behind a commit restarts the actor; the panicking request gets its
// error and every queued write is still answered and applied exactly
// once.
func TestQueuedRequestsSurviveARestart(t *testing.T) {
	s, sys := setup(t)
	pid := sys.Root.Spawn(entity.Props(entity.Config[doc]{Store: s, Key: store.Prefix + "doc", Handle: handle}).
		Configure(actor.WithGuardian(&supervise.Strategy{MaxRestarts: 5, Window: time.Minute})))
	var futures []*actor.Future
	for i := 0; i < 10; i++ {
		futures = append(futures, sys.Root.RequestFuture(pid, &incr{}, 30*time.Second))
	}
	boomF := sys.Root.RequestFuture(pid, &boom{}, 30*time.Second)
	for i := 0; i < 10; i++ {
		futures = append(futures, sys.Root.RequestFuture(pid, &incr{}, 30*time.Second))
	}
	if res, err := boomF.Result(); err != nil {
		t.Fatalf("boom: %v (want a Failure reply, not a timeout)", err)
	} else if _, ok := res.(*supervise.Failure); !ok {
		t.Fatalf("boom: reply %#v, want *supervise.Failure", res)
	}
	var got []int
	for i, f := range futures {
		res, err := f.Result()
		if err != nil {
			t.Fatalf("incr %d: %v", i, err)
		}
		v, ok := res.(int)
		if !ok {
			t.Fatalf("incr %d: reply %#v", i, res)
		}
		got = append(got, v)
	}
	slices.Sort(got)
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("replies %v, want each of 1..20 once", got)
		}
	}
	var d doc
	if _, err := s.Get(context.Background(), store.Prefix+"doc", &d); err != nil || d.N != 20 {
		t.Fatalf("durable state %+v, %v; want N=20", d, err)
	}
}

// TestBatchedChangesKeepEveryExtra: Extra runs once per change even when
// changes share a commit, so a history entry per change is written (none
// lost to the batch), and two changes writing one key (a ring slot
// reused) commit as the later one instead of failing the transaction.
func TestBatchedChangesKeepEveryExtra(t *testing.T) {
	var commits commitCounter
	s, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true, Observer: &commits})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	op, _ := store.Put(store.Prefix+"doc", doc{N: 0})
	if _, err := s.Commit(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	const slots = 8
	extra := func(cur, next *doc) []store.Op {
		entry, _ := store.Put(fmt.Sprintf("%shist/%d", store.Prefix, next.N%slots), next.N)
		return []store.Op{entry}
	}
	pid := sys.Root.Spawn(entity.Props(entity.Config[doc]{Store: s, Key: store.Prefix + "doc", Handle: handle, Extra: extra}).
		Configure(actor.WithGuardian(&supervise.Strategy{})))
	before := commits.n.Load()
	const n = 30
	futures := make([]*actor.Future, n)
	for i := range futures {
		futures[i] = sys.Root.RequestFuture(pid, &incr{}, 30*time.Second)
	}
	for i, f := range futures {
		if res, err := f.Result(); err != nil {
			t.Fatalf("incr %d: %v", i, err)
		} else if _, ok := res.(int); !ok {
			t.Fatalf("incr %d: reply %#v (a batch writing one key twice must not fail)", i, res)
		}
	}
	if used := commits.n.Load() - before; used >= n {
		t.Fatalf("%d writes took %d commits: no batch formed, so this test proves nothing", n, used)
	}
	// Slot k holds the last N written to it: every one of the last
	// `slots` changes left its entry.
	for v := n - slots + 1; v <= n; v++ {
		var got int
		if _, err := s.Get(context.Background(), fmt.Sprintf("%shist/%d", store.Prefix, v%slots), &got); err != nil || got != v {
			t.Errorf("history slot %d holds %d (%v); want %d, the entry of change %d", v%slots, got, err, v, v)
		}
	}
}
