package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/store"
)

type call struct {
	op  string
	err error
}

type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) ObserveStore(op string, took time.Duration, err error) {
	if took < 0 {
		panic("negative duration")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{op, err})
}

// TestObserver: every Commit, Get and List is reported once with its
// outcome, including ErrNotFound and ErrConflict.
func TestObserver(t *testing.T) {
	rec := &recorder{}
	s, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	rec.mu.Lock()
	rec.calls = nil // opening the store reads and writes the epoch through the raw client only
	rec.mu.Unlock()

	op, _ := store.Put(store.Prefix+"k", 1)
	if _, err := s.Commit(ctx, op); err != nil {
		t.Fatal(err)
	}
	var v int
	if _, err := s.Get(ctx, store.Prefix+"k", &v); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, store.Prefix+"absent", &v); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := s.CommitIf(ctx, []store.Cond{store.Absent(store.Prefix + "k")}, op); !errors.Is(err, store.ErrConflict) {
		t.Fatal(err)
	}
	if _, _, err := s.List(ctx, store.Prefix); err != nil {
		t.Fatal(err)
	}
	want := []call{{"commit", nil}, {"get", nil}, {"get", store.ErrNotFound}, {"commit", store.ErrConflict}, {"list", nil}}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.calls) != len(want) {
		t.Fatalf("observed %v, want %v", rec.calls, want)
	}
	for i, c := range rec.calls {
		if c.op != want[i].op || !errors.Is(c.err, want[i].err) || (want[i].err == nil) != (c.err == nil) {
			t.Errorf("call %d: got %v, want %v", i, c, want[i])
		}
	}
}
