package machinelock_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/machinelock"
)

type timings struct {
	mu           sync.Mutex
	waited, held []time.Duration
}

func (o *timings) LockAcquired(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waited = append(o.waited, d)
}

func (o *timings) LockReleased(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.held = append(o.held, d)
}

// TestObserver: each acquisition reports its wait and each release its
// hold, once per holder; a hold is at least as long as the span between
// acquiring and releasing.
func TestObserver(t *testing.T) {
	dir := t.TempDir()
	obs := &timings{}
	l := &machinelock.Lock{Path: filepath.Join(dir, "lock"), LogPath: filepath.Join(dir, "lock.log"), Poll: time.Millisecond, Observer: obs}
	ctx := context.Background()
	release, err := l.Acquire(ctx, "unit-a-0", "first")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	// The second acquirer blocks until release.
	done := make(chan error, 1)
	go func() {
		r2, err := l.Acquire(ctx, "unit-b-0", "second")
		if err == nil {
			r2()
		}
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // a hold long enough to see
	releasedAt := time.Now()
	release()
	release() // idempotent: reported once
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.waited) != 2 || len(obs.held) != 2 {
		t.Fatalf("want 2 acquisitions and 2 releases, got waits %v holds %v", obs.waited, obs.held)
	}
	for i, w := range obs.waited {
		if w < 0 {
			t.Errorf("wait %d is negative: %s", i, w)
		}
	}
	if obs.held[0] < releasedAt.Sub(t0) {
		t.Errorf("first hold %s shorter than the span it was held for (%s)", obs.held[0], releasedAt.Sub(t0))
	}
}
