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
