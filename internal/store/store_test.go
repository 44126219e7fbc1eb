package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/troupe-dev/troupe/internal/store"
)

func open(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCommitGetRoundTrip(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	op, err := store.Put(store.Prefix+"x", map[string]int{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.Commit(ctx, op)
	if err != nil || rev == 0 {
		t.Fatalf("commit: rev %d err %v", rev, err)
	}
	var got map[string]int
	if _, err := s.Get(ctx, store.Prefix+"x", &got); err != nil || got["a"] != 1 {
		t.Fatalf("get: %v %v", got, err)
	}
	if _, err := s.Get(ctx, store.Prefix+"missing", &got); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing key: got %v, want ErrNotFound", err)
	}
}

func TestStaleEpochCannotCommit(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	stale := s.WithEpoch(s.Epoch())
	// A second controller takes over the store.
	if err := store.TakeEpoch(s, ctx); err != nil {
		t.Fatal(err)
	}
	op, _ := store.Put(store.Prefix+"k", "v")
	if _, err := stale.Commit(ctx, op); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("stale commit: got %v, want ErrFenced", err)
	}
	var v string
	if _, err := s.Get(ctx, store.Prefix+"k", &v); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stale write landed: %q %v", v, err)
	}
	if _, err := s.Commit(ctx, op); err != nil {
		t.Fatalf("current epoch commit: %v", err)
	}
}

func TestEpochSurvivesRestartAndIncreases(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	e1 := s.Epoch()
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if s.Epoch() <= e1 {
		t.Fatalf("epoch after restart %d, want > %d", s.Epoch(), e1)
	}
}

func TestCommitIfConflict(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	op, _ := store.Put(store.Prefix+"once", 1)
	if _, err := s.CommitIf(ctx, []store.Cond{store.Absent(store.Prefix + "once")}, op); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CommitIf(ctx, []store.Cond{store.Absent(store.Prefix + "once")}, op); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("got %v, want ErrConflict", err)
	}
}

func TestUnchangedCond(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	key := store.Prefix + "m"
	op, _ := store.Put(key, 1)
	if _, err := s.Commit(ctx, op); err != nil {
		t.Fatal(err)
	}
	var v int
	rev, err := s.Get(ctx, key, &v)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := store.Put(store.Prefix+"other", 1)
	if _, err := s.CommitIf(ctx, []store.Cond{store.Unchanged(key, rev)}, other); err != nil {
		t.Fatalf("unchanged key: %v", err)
	}
	if _, err := s.Commit(ctx, op); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CommitIf(ctx, []store.Cond{store.Unchanged(key, rev)}, other); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("changed key: got %v, want ErrConflict", err)
	}
}
