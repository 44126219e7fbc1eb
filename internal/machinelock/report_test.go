package machinelock_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/machinelock"
)

// TestReport: the report names the holder and the waiters, oldest first,
// and is empty once everyone is done; a waiter that gives up leaves it.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	l := &machinelock.Lock{Path: filepath.Join(dir, "lock"), Poll: time.Millisecond}
	if r := l.Report(); r.Holder != nil || len(r.Waiting) != 0 {
		t.Fatalf("idle lock reports %+v", r)
	}
	release, err := l.Acquire(context.Background(), "unit-a-0", "install hook")
	if err != nil {
		t.Fatal(err)
	}
	if r := l.Report(); r.Holder == nil || r.Holder.Who != "unit-a-0" || r.Holder.Why != "install hook" || r.Holder.Since.IsZero() {
		t.Fatalf("held lock reports %+v", r)
	}
	got := make(chan func(), 1)
	go func() {
		rel, err := l.Acquire(context.Background(), "unit-b-0", "start hook")
		if err != nil {
			t.Error(err)
		}
		got <- rel
	}()
	waitReport(t, l, func(r machinelock.Report) bool { return len(r.Waiting) == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx, "unit-c-0", "stop hook")
		gaveUp <- err
	}()
	r := waitReport(t, l, func(r machinelock.Report) bool { return len(r.Waiting) == 2 })
	if r.Waiting[0].Who != "unit-b-0" || r.Waiting[1].Who != "unit-c-0" {
		t.Fatalf("waiters not oldest first: %+v", r.Waiting)
	}
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("a cancelled waiter got the lock")
	}
	waitReport(t, l, func(r machinelock.Report) bool { return len(r.Waiting) == 1 })
	release()
	rel := <-got
	if r := l.Report(); r.Holder == nil || r.Holder.Who != "unit-b-0" || len(r.Waiting) != 0 {
		t.Fatalf("after hand-over: %+v", r)
	}
	rel()
	if r := l.Report(); r.Holder != nil || len(r.Waiting) != 0 {
		t.Fatalf("after release: %+v", r)
	}
}

func waitReport(t *testing.T, l *machinelock.Lock, ok func(machinelock.Report) bool) machinelock.Report {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := l.Report()
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("lock report never matched: %+v", r)
		}
		time.Sleep(time.Millisecond)
	}
}
