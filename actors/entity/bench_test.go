package entity_test

import (
	"context"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/internal/store"
)

// BenchmarkWriteThroughActor is a status-style update through an entity
// actor (validate, fenced etcd commit, apply, reply).
func BenchmarkWriteThroughActor(b *testing.B) {
	t := &testing.T{}
	s, sys := setup(t)
	defer s.Close()
	defer sys.Shutdown()
	pid := spawn(t, s, sys, &supervise.Strategy{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := supervise.Ask[int](sys.Root, pid, &incr{}, 10*time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteStraightToEtcd is the floor: the same fenced commit with
// no actor in between.
func BenchmarkWriteStraightToEtcd(b *testing.B) {
	t := &testing.T{}
	s, sys := setup(t)
	defer s.Close()
	defer sys.Shutdown()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op, _ := store.Put(store.Prefix+"doc", doc{N: i})
		if _, err := s.Commit(ctx, op); err != nil {
			b.Fatal(err)
		}
	}
}
