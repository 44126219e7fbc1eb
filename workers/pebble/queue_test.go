package pebble

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

func TestQueueDurableAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "workload-events.json")
	q, err := OpenQueue(path)
	if err != nil {
		t.Fatal(err)
	}
	if evs := q.Events(); len(evs) != 0 {
		t.Fatalf("fresh queue has events %v", evs)
	}
	cursor := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	ready := hook.Info{Kind: hook.PebbleReady, WorkloadName: "web"}
	notice := hook.Info{Kind: hook.PebbleCustomNotice, WorkloadName: "web", NoticeID: "3", NoticeType: "custom", NoticeKey: "a.com/x"}
	if err := q.Record("web", ContainerState{Daemon: "d1"}, ready); err != nil {
		t.Fatal(err)
	}
	select {
	case <-q.Changes():
	default:
		t.Fatal("recording an event did not signal Changes")
	}
	if err := q.Record("web", ContainerState{Daemon: "d1", Cursor: cursor}, notice); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(1); err != nil {
		t.Fatal(err)
	}

	// As after a kill -9: everything comes back from the file.
	q2, err := OpenQueue(path)
	if err != nil {
		t.Fatal(err)
	}
	evs := q2.Events()
	if len(evs) != 1 || evs[0].Seq != 2 || evs[0].Hook != notice {
		t.Fatalf("after reopen: events %+v, want only seq 2 (the notice)", evs)
	}
	if st := q2.Container("web"); st.Daemon != "d1" || !st.Cursor.Equal(cursor) {
		t.Fatalf("after reopen: container state %+v", st)
	}
	// Numbers never go back, even below an ack from a lost file.
	if err := q2.Ack(10); err != nil {
		t.Fatal(err)
	}
	if err := q2.Record("web", ContainerState{Daemon: "d2"}, ready); err != nil {
		t.Fatal(err)
	}
	if evs := q2.Events(); len(evs) != 1 || evs[0].Seq != 11 {
		t.Fatalf("after ack 10: events %+v, want one numbered 11", evs)
	}
}

func TestQueueRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	q, err := OpenQueue(filepath.Join(dir, "q.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Record("web", ContainerState{}, hook.Info{Kind: hook.Install}); err == nil {
		t.Error("queued a non-workload hook")
	}
	if err := q.Record("web", ContainerState{}, hook.Info{Kind: hook.PebbleReady}); err == nil {
		t.Error("queued a pebble-ready without a workload name")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o600)
	if _, err := OpenQueue(bad); err == nil {
		t.Error("opened a corrupt queue file")
	}
}
