package uniter

import (
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/clocktest"
	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

func TestSecretEventNumbers(t *testing.T) {
	var e secretEvents
	changed := &apipb.SecretEvent{Kind: "secret-changed", Uri: "secret:a", Label: "db", Revision: 2}
	remove := &apipb.SecretEvent{Kind: "secret-remove", Uri: "secret:b", Revision: 1, LeaderOnly: true}
	first := e.events(&apipb.UnitSnapshotResult{SecretEvents: []*apipb.SecretEvent{changed, remove}}, false)
	if len(first) != 2 || first[0].Seq != 1 || first[1].Seq != 2 {
		t.Fatalf("first snapshot: %+v", first)
	}
	if h := first[0].Hook; h.Kind != hook.SecretChanged || h.SecretURI != "secret:a" || h.SecretLabel != "db" || h.SecretRevision != 0 || h.Validate() != nil {
		t.Errorf("secret-changed hook %+v (validate: %v)", h, h.Validate())
	}
	if h := first[1].Hook; h.Kind != hook.SecretRemove || h.SecretRevision != 1 || !first[1].LeaderOnly || h.Validate() != nil {
		t.Errorf("secret-remove event %+v", first[1])
	}
	// The same events keep their numbers, in any order.
	again := e.events(&apipb.UnitSnapshotResult{SecretEvents: []*apipb.SecretEvent{remove, changed}}, false)
	if again[0].Seq != 2 || again[1].Seq != 1 {
		t.Errorf("numbers moved: %+v", again)
	}
	// Once the secret-changed ran (the resolver recorded seq 1) a newer
	// revision of the same secret is a new, larger number, so it runs.
	newer := &apipb.SecretEvent{Kind: "secret-changed", Uri: "secret:a", Revision: 3}
	third := e.events(&apipb.UnitSnapshotResult{SecretEvents: []*apipb.SecretEvent{newer, remove}}, false)
	if third[0].Seq <= 2 || third[1].Seq != 2 {
		t.Errorf("a new event got number %d, not above those seen (or the old one moved: %d)", third[0].Seq, third[1].Seq)
	}
	// A leader-only event the unit skipped as a minion is new once it leads.
	led := e.events(&apipb.UnitSnapshotResult{SecretEvents: []*apipb.SecretEvent{newer, remove}}, true)
	if led[0].Seq != third[0].Seq || led[1].Seq <= third[0].Seq {
		t.Errorf("after gaining leadership: %+v, want the leader-only event renumbered above %d", led, third[0].Seq)
	}
}

func TestSecretChangesForTheOutbox(t *testing.T) {
	label := "creds"
	b := &backend{
		snap:   &apipb.UnitSnapshotResult{SecretEvents: []*apipb.SecretEvent{{Kind: "secret-changed", Uri: "secret:a", Revision: 4}}},
		hook:   hook.Info{Kind: hook.SecretChanged, SecretURI: "secret:a"},
		tracks: []secretTrack{{uri: "secret:a", revision: 4, label: &label}},
	}
	got := secretChanges([]hookcmds.SecretChange{
		{Kind: "create", URI: "secret:n", Args: hookcmds.SecretArgs{Owner: "unit", Label: &label, Content: map[string]string{"k": "v"}}},
		{Kind: "grant", URI: "secret:n", Grant: hookcmds.SecretGrant{RelationID: 3, Unit: "client/0"}},
	}, b)
	if len(got) != 4 {
		t.Fatalf("changes %+v", got)
	}
	if c := got[0]; c.Kind != "create" || c.Owner != "unit" || *c.Label != "creds" || c.Content["k"] != "v" || c.RelationID != -1 {
		t.Errorf("create %+v", c)
	}
	if c := got[1]; c.Kind != "grant" || c.RelationID != 3 || c.Unit != "client/0" {
		t.Errorf("grant %+v", c)
	}
	if c := got[2]; c.Kind != "track" || c.URI != "secret:a" || c.Revision != 4 || *c.Label != "creds" {
		t.Errorf("track %+v", c)
	}
	if c := got[3]; c.Kind != "notify" || c.URI != "secret:a" || c.Revision != 4 {
		t.Errorf("notify %+v (the secret-changed hook ran for revision 4)", c)
	}
	pb := secretChangesPB(got)
	if !pb[0].HasContent || !pb[0].HasLabel || pb[0].HasDescription || pb[3].HasContent {
		t.Errorf("presence flags on the wire: %+v", pb)
	}
}

// TestSecretDueTimerWakesTheUniter drives the real loop: when the
// snapshot says a time-based secret hook falls due at T, the uniter arms
// a timer for T on its clock and, when it fires, reads a fresh snapshot
// without any watch event; a later due time re-arms it.
func TestSecretDueTimerWakesTheUniter(t *testing.T) {
	h := start(t, false)
	h.next("status:error")
	h.api.update(func(s *apipb.UnitSnapshotResult) { s.Resolved = "no-hooks" })
	h.waitLedger("started", endsWith("start"))

	dueIn := 10 * time.Minute
	h.api.update(func(s *apipb.UnitSnapshotResult) { s.SecretNextDueMs = h.clock.Now().Add(dueIn).UnixMilli() })
	dueTimers := func(d time.Duration) func([]clocktest.Timer) bool {
		return func(ts []clocktest.Timer) bool {
			for _, tm := range ts {
				if tm.Requested == d {
					return true
				}
			}
			return false
		}
	}
	h.waitTimers("the secret due timer", dueTimers(dueIn))
	h.settle()
	for len(h.api.reads) > 0 {
		<-h.api.reads
	}
	h.clock.Advance(dueIn)
	select {
	case <-h.api.reads:
	case <-time.After(waitTimeout):
		t.Fatalf("the due timer fired but the uniter read no snapshot")
	}
	h.api.update(func(s *apipb.UnitSnapshotResult) { s.SecretNextDueMs = h.clock.Now().Add(2 * time.Hour).UnixMilli() })
	h.waitTimers("the due timer re-armed for the next due time", dueTimers(2*time.Hour))
}
