package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/store"
)

func TestPassGap(t *testing.T) {
	cases := []struct{ took, want time.Duration }{
		{0, store.MinPassGap},
		{time.Millisecond, store.MinPassGap},
		{100 * time.Millisecond, 200 * time.Millisecond},
		{700 * time.Millisecond, 1400 * time.Millisecond},
		{time.Minute, store.MaxPassGap},
	}
	for _, c := range cases {
		if got := store.PassGap(c.took); got != c.want {
			t.Errorf("PassGap(%v) = %v, want %v", c.took, got, c.want)
		}
	}
}

// TestReconcileCoalescesChangesAndSeesTheLast: a stream of writes, each
// faster than a slow pass, is coalesced into few passes, and a pass after the last
// write sees it (level-triggered convergence is kept).
func TestReconcileCoalescesChangesAndSeesTheLast(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const writes = 40
	var passes atomic.Int32
	var seen atomic.Int64 // the value of the key the last pass read
	done := make(chan error, 1)
	go func() {
		done <- s.Reconcile(ctx, store.Prefix+"r/", time.Hour, func(ctx context.Context) error {
			passes.Add(1)
			var v int64
			if _, err := s.Get(ctx, store.Prefix+"r/x", &v); err == nil {
				seen.Store(v)
			}
			time.Sleep(50 * time.Millisecond) // a slow pass: listings of a big model
			return nil
		}, func(err error) { t.Errorf("pass: %v", err) })
	}()
	for i := int64(1); i <= writes; i++ {
		op, err := store.Put(store.Prefix+"r/x", i)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(ctx, op); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // one watch event each, as agents' status writes come
	}
	deadline := time.Now().Add(time.Minute)
	for seen.Load() != writes {
		if time.Now().After(deadline) {
			t.Fatalf("no pass saw the last write (%d) within a minute; last seen %d", writes, seen.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for n := int32(-1); n != passes.Load(); { // let queued passes run out
		n = passes.Load()
		time.Sleep(500 * time.Millisecond)
	}
	if n := passes.Load(); n > writes/4 {
		t.Errorf("%d passes for %d writes; want the changes coalesced (a pass per change was the old behaviour)", n, writes)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(fmt.Errorf("Reconcile: %w", err))
	}
}

// TestUnavailable: a read of a stopped store is Unavailable (as the
// wrapped error the store's callers see); a missing key is not.
func TestUnavailable(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := context.Background()
	var v int
	if _, err := s.Get(ctx, store.Prefix+"missing", &v); store.Unavailable(err) {
		t.Errorf("a missing key is Unavailable: %v", err)
	}
	s.Close()
	_, err := s.Get(ctx, store.Prefix+"missing", &v)
	if err == nil || !store.Unavailable(err) {
		t.Errorf("a read of a closed store gave %v; want an error Unavailable says is the store not serving", err)
	}
	if store.Unavailable(fmt.Errorf("cannot decode: %w", store.ErrNotFound)) {
		t.Error("ErrNotFound is Unavailable")
	}
}
