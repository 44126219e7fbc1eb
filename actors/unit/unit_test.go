package unit

import (
	"reflect"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
)

// TestCommitsApplyOncePerStreamAndSeq: a hook commit delivered again
// after a lost acknowledgement is not applied twice; a new stream (a unit
// whose local state was wiped) starts over.
func TestCommitsApplyOncePerStreamAndSeq(t *testing.T) {
	cur := &entity.Unit{Name: "a/0", CharmState: map[string]string{"k": "v0"}}
	step := func(cur *entity.Unit, m *UpdateCharmState) *entity.Unit {
		t.Helper()
		next, reply, err := Handle(time.Now(), cur, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := reply.(*Done); !ok {
			t.Fatalf("reply %T", reply)
		}
		if next == nil {
			return cur
		}
		return next
	}
	s1 := step(cur, &UpdateCharmState{Set: map[string]string{"k": "v1"}, Stream: "s", Seq: 1})
	s2 := step(s1, &UpdateCharmState{Set: map[string]string{"k": "v2"}, Stream: "s", Seq: 2})
	replay := step(s2, &UpdateCharmState{Set: map[string]string{"k": "v1"}, Stream: "s", Seq: 1})
	if replay.CharmState["k"] != "v2" || replay.CommitSeq != 2 {
		t.Errorf("a replayed commit was applied: %+v", replay)
	}
	fresh := step(replay, &UpdateCharmState{Delete: []string{"k"}, Stream: "t", Seq: 1})
	if len(fresh.CharmState) != 0 || fresh.CommitStream != "t" || fresh.CommitSeq != 1 {
		t.Errorf("a new stream was not accepted: %+v", fresh)
	}
	if !reflect.DeepEqual(cur.CharmState, map[string]string{"k": "v0"}) {
		t.Errorf("Handle modified its input: %v", cur.CharmState)
	}
}

func TestApplyPorts(t *testing.T) {
	cur := map[string][]string{"": {"80/tcp"}}
	next, changed := applyPorts(cur, map[string][]string{"": {"443/tcp", "80/tcp"}, "db": {"5432/tcp"}}, nil)
	if !changed || !reflect.DeepEqual(next, map[string][]string{"": {"443/tcp", "80/tcp"}, "db": {"5432/tcp"}}) {
		t.Fatalf("open: %v %v", next, changed)
	}
	again, changed := applyPorts(next, map[string][]string{"db": {"5432/tcp"}}, nil)
	if changed || !reflect.DeepEqual(again, next) {
		t.Errorf("re-opening an open port changed the set: %v", again)
	}
	closed, changed := applyPorts(next, nil, map[string][]string{"db": {"5432/tcp"}, "": {"80/tcp"}})
	if !changed || !reflect.DeepEqual(closed, map[string][]string{"": {"443/tcp"}}) {
		t.Errorf("close: %v %v", closed, changed)
	}
	if !reflect.DeepEqual(cur, map[string][]string{"": {"80/tcp"}}) {
		t.Errorf("input modified: %v", cur)
	}
}

// TestQueuedStatusAppliesWithItsSeq: a status-set queued in the outbox is
// applied in the write that records its sequence number, stamped with the
// time it was set, and a replay of it (or of an older one) is ignored.
func TestQueuedStatusAppliesWithItsSeq(t *testing.T) {
	setAt := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cur := &entity.Unit{Name: "a/0", Workload: entity.Status{Current: "active", Message: "n=0"}}
	next, _, err := Handle(setAt.Add(time.Hour), cur, &UpdateCharmState{Workload: &entity.Status{Current: "active", Message: "n=1", Since: setAt}, Stream: "s", Seq: 1})
	if err != nil || next == nil {
		t.Fatalf("status not applied: %v %v", next, err)
	}
	if next.Workload.Message != "n=1" || !next.Workload.Since.Equal(setAt) || next.CommitSeq != 1 {
		t.Errorf("applied %+v seq %d", next.Workload, next.CommitSeq)
	}
	two, _, _ := Handle(time.Now(), next, &UpdateCharmState{Workload: &entity.Status{Current: "blocked", Message: "n=2"}, Stream: "s", Seq: 2})
	replay, _, _ := Handle(time.Now(), two, &UpdateCharmState{Workload: &entity.Status{Current: "active", Message: "n=1"}, Stream: "s", Seq: 1})
	if replay != nil {
		t.Errorf("a replayed status was applied: %+v", replay.Workload)
	}
	if two.Workload.Current != "blocked" || two.Workload.Since.IsZero() {
		t.Errorf("second status %+v", two.Workload)
	}
}
