package apiserver

import (
	"testing"
	"time"

	"github.com/troupe-dev/troupe/controller/presence"
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
