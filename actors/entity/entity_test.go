package entity_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/entity"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/internal/store"
)

type doc struct{ N int }

type incr struct{}
type boom struct{}
type get struct{}

func handle(_ time.Time, cur *doc, msg any) (*doc, any, error) {
	switch msg.(type) {
	case *incr:
		return &doc{N: cur.N + 1}, cur.N + 1, nil
	case *get:
		return nil, cur.N, nil
	case *boom:
		panic("boom")
	}
	return nil, nil, fmt.Errorf("unexpected %T", msg)
}

func setup(t *testing.T) (*store.Store, *actor.ActorSystem) {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(sys.Shutdown)
	op, _ := store.Put(store.Prefix+"doc", doc{N: 0})
	if _, err := s.Commit(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	return s, sys
}

func spawn(t *testing.T, s *store.Store, sys *actor.ActorSystem, strategy actor.SupervisorStrategy) *actor.PID {
	props := entity.Props(entity.Config[doc]{Store: s, Key: store.Prefix + "doc", Handle: handle})
	return sys.Root.Spawn(props.Configure(actor.WithGuardian(strategy)))
}

func TestPersistThenApplyAndPanicRepliesWithError(t *testing.T) {
	s, sys := setup(t)
	pid := spawn(t, s, sys, &supervise.Strategy{MaxRestarts: 5, Window: time.Minute})
	for i := 1; i <= 3; i++ {
		n, err := supervise.Ask[int](sys.Root, pid, &incr{}, 5*time.Second)
		if err != nil || n != i {
			t.Fatalf("incr %d: got %d, %v", i, n, err)
		}
	}
	var d doc
	if _, err := s.Get(context.Background(), store.Prefix+"doc", &d); err != nil || d.N != 3 {
		t.Fatalf("durable state %+v %v, want N=3", d, err)
	}
	start := time.Now()
	_, err := supervise.Ask[int](sys.Root, pid, &boom{}, 5*time.Second)
	if !errors.Is(err, supervise.ErrPanicked) {
		t.Fatalf("panicking handler: got %v, want ErrPanicked", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("error reply took %s: caller waited for a timeout", time.Since(start))
	}
	// Restarted from persisted state.
	n, err := supervise.Ask[int](sys.Root, pid, &get{}, 5*time.Second)
	if err != nil || n != 3 {
		t.Fatalf("after restart: got %d, %v; want 3", n, err)
	}
}

func TestStoreErrorIsReturnedAndStateNotApplied(t *testing.T) {
	s, sys := setup(t)
	pid := spawn(t, s, sys, &supervise.Strategy{})
	if _, err := supervise.Ask[int](sys.Root, pid, &incr{}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	s.Close() // every further write fails
	if _, err := supervise.Ask[int](sys.Root, pid, &incr{}, 15*time.Second); err == nil {
		t.Fatal("write to a closed store was acknowledged")
	}
	n, err := supervise.Ask[int](sys.Root, pid, &get{}, 5*time.Second)
	if err != nil || n != 1 {
		t.Fatalf("in-memory state ran ahead of the store: got %d, %v; want 1", n, err)
	}
}
