package outbox_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/workers/uniter/outbox"
)

func TestAppendDeliverInOrderAndSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.json")
	o, err := outbox.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range []string{"install", "start", "db-relation-changed"} {
		seq, err := o.Append(outbox.Entry{Hook: h, StateSet: map[string]string{"n": h}})
		if err != nil || seq != uint64(i+1) {
			t.Fatalf("append %s: seq %d err %v", h, seq, err)
		}
	}
	// The link is down after the first delivery: the rest stays queued,
	// also across a restart (reopen).
	var sent []string
	fail := errors.New("link down")
	err = o.Deliver(func(stream string, e outbox.Entry) error {
		if stream != o.Stream() {
			t.Errorf("stream %q, want %q", stream, o.Stream())
		}
		if len(sent) == 1 {
			return fail
		}
		sent = append(sent, e.Hook)
		return nil
	})
	if !errors.Is(err, fail) {
		t.Fatalf("deliver: %v, want the send error", err)
	}
	again, err := outbox.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if again.Stream() != o.Stream() {
		t.Errorf("stream changed across reopen")
	}
	var seqs []uint64
	if err := again.Deliver(func(_ string, e outbox.Entry) error {
		sent = append(sent, e.Hook)
		seqs = append(seqs, e.Seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"install", "start", "db-relation-changed"}; !reflect.DeepEqual(sent, want) {
		t.Errorf("delivered %v, want %v, each once", sent, want)
	}
	if !reflect.DeepEqual(seqs, []uint64{2, 3}) {
		t.Errorf("sequence numbers %v", seqs)
	}
	if p := again.Pending(); len(p) != 0 {
		t.Errorf("pending after delivery: %v", p)
	}
	// Sequence numbers keep increasing after the queue drained.
	if seq, err := again.Append(outbox.Entry{Hook: "stop"}); err != nil || seq != 4 {
		t.Errorf("append after drain: %d %v", seq, err)
	}
}

func TestCorruptOutboxIsReportedNotDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := outbox.Open(path); err == nil {
		t.Fatal("a corrupt outbox was accepted")
	}
	if data, _ := os.ReadFile(path); string(data) != "{not json" {
		t.Errorf("the corrupt outbox was overwritten: %q", data)
	}
}

// TestOldest: the append time of the oldest pending entry survives a
// reopen and moves on as entries are delivered.
func TestOldest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.json")
	o, err := outbox.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if n, at := o.Oldest(); n != 0 || !at.IsZero() {
		t.Fatalf("empty outbox: %d %v", n, at)
	}
	first, second := time.Unix(100, 0), time.Unix(200, 0)
	o.Append(outbox.Entry{Hook: "install", Appended: first.UnixNano()})
	o.Append(outbox.Entry{Hook: "start", Appended: second.UnixNano()})
	before := time.Now()
	o.Append(outbox.Entry{Hook: "config-changed"}) // stamped by Append
	again, err := outbox.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if n, at := again.Oldest(); n != 3 || !at.Equal(first) {
		t.Errorf("oldest after reopen: %d %v, want 3 %v", n, at, first)
	}
	again.Remove(1)
	if n, at := again.Oldest(); n != 2 || !at.Equal(second) {
		t.Errorf("oldest after one delivery: %d %v, want 2 %v", n, at, second)
	}
	again.Remove(2)
	if n, at := again.Oldest(); n != 1 || at.Before(before) {
		t.Errorf("an entry appended without a time must be stamped by Append: %d %v (appended after %v)", n, at, before)
	}
}
