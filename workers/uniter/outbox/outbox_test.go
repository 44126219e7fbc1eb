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

func logEntry(seq uint64, lines ...string) outbox.Entry {
	e := outbox.Entry{Seq: seq, Hook: "juju-log"}
	for _, l := range lines {
		e.Logs = append(e.Logs, outbox.LogLine{Message: l})
	}
	return e
}

func seqsOf(es []outbox.Entry) []uint64 {
	var out []uint64
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

// TestMakeRoom is the bound decision: the oldest log-only entries not yet
// handed to the sender go first, their line counts move to the entry
// after them, and commits, statuses and action results are never
// dropped, even past the limit.
func TestMakeRoom(t *testing.T) {
	commit := outbox.Entry{Seq: 2, Hook: "update-status", StateSet: map[string]string{"n": "1"}}
	status := outbox.Entry{Seq: 4, Hook: "status-set", Workload: &outbox.Status{Current: "active"}}
	action := outbox.Entry{Seq: 6, Hook: "action-result", Action: &outbox.ActionResult{ID: "1", Status: "completed"}}
	pending := []outbox.Entry{logEntry(1, "a", "b"), commit, logEntry(3, "c"), status, logEntry(5, "d", "e", "f"), action}

	// Room enough: nothing dropped.
	kept, carried, dropped := outbox.MakeRoom(pending, 0, 7)
	if !reflect.DeepEqual(seqsOf(kept), []uint64{1, 2, 3, 4, 5, 6}) || carried != 0 || dropped != 0 {
		t.Errorf("under the limit: kept %v carried %d dropped %d", seqsOf(kept), carried, dropped)
	}
	// Two over: the two oldest log entries go; the commit after the first
	// and the status after the second say how many lines went.
	kept, carried, dropped = outbox.MakeRoom(pending, 0, 5)
	if got := seqsOf(kept); !reflect.DeepEqual(got, []uint64{2, 4, 5, 6}) || carried != 0 || dropped != 3 {
		t.Fatalf("two over: kept %v carried %d dropped %d, want [2 4 5 6] 0 3", got, carried, dropped)
	}
	if kept[0].LogsDropped != 2 || kept[1].LogsDropped != 1 {
		t.Errorf("dropped counts carried by the next entries: %d %d, want 2 1", kept[0].LogsDropped, kept[1].LogsDropped)
	}
	// Far over: every log entry goes, never the others; the pending input
	// is not modified.
	kept, _, dropped = outbox.MakeRoom(pending, 0, 1)
	if got := seqsOf(kept); !reflect.DeepEqual(got, []uint64{2, 4, 6}) || dropped != 6 {
		t.Errorf("far over: kept %v dropped %d, want [2 4 6] 6", got, dropped)
	}
	if pending[1].LogsDropped != 0 || len(pending) != 6 {
		t.Errorf("MakeRoom modified its input: %+v", pending)
	}
	// Entries handed to the sender may have arrived: not dropped.
	kept, _, _ = outbox.MakeRoom(pending, 3, 4)
	if got := seqsOf(kept); !reflect.DeepEqual(got, []uint64{1, 2, 3, 4, 6}) {
		t.Errorf("handed up to 3: kept %v, want [1 2 3 4 6]", got)
	}
	// A dropped entry last in the queue: the new entry carries its count,
	// and its own carried count too.
	last := logEntry(7, "g")
	last.LogsDropped = 4
	kept, carried, _ = outbox.MakeRoom([]outbox.Entry{commit, last}, 0, 2)
	if got := seqsOf(kept); !reflect.DeepEqual(got, []uint64{2}) || carried != 5 {
		t.Errorf("last dropped: kept %v carried %d, want [2] 5", got, carried)
	}
}

// TestBoundedOutboxKeepsCommitsAndCountsDroppedLines: many more log
// lines than the limit while nothing is delivered; every commit stays,
// and delivered lines plus the dropped counts account for every line.
func TestBoundedOutboxKeepsCommitsAndCountsDroppedLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.json")
	o, err := outbox.OpenLimit(path, 8)
	if err != nil {
		t.Fatal(err)
	}
	lines, commits := 0, 0
	for i := 0; i < 60; i++ {
		e := outbox.Entry{Hook: "juju-log", Logs: []outbox.LogLine{{Message: "x"}, {Message: "y"}}}
		if i%10 == 0 {
			e = outbox.Entry{Hook: "update-status", StateSet: map[string]string{"n": "v"}}
			commits++
		} else {
			lines += 2
		}
		if _, err := o.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	again, err := outbox.OpenLimit(path, 8) // across a restart
	if err != nil {
		t.Fatal(err)
	}
	var got, gotCommits int
	var dropped uint64
	prev := uint64(0)
	if err := again.Deliver(func(_ string, e outbox.Entry) error {
		if e.Seq <= prev {
			t.Errorf("seq %d after %d", e.Seq, prev)
		}
		prev = e.Seq
		got += len(e.Logs)
		dropped += e.LogsDropped
		if !e.LogOnly() {
			gotCommits++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if gotCommits != commits {
		t.Errorf("%d commits delivered, want all %d", gotCommits, commits)
	}
	if got+int(dropped) != lines || dropped == 0 {
		t.Errorf("delivered %d lines and %d dropped, want %d in all with some dropped", got, dropped, lines)
	}
	if o.Dropped() != dropped {
		t.Errorf("Dropped() = %d, want %d", o.Dropped(), dropped)
	}
}

// TestDeliverBatchesRemovalsAndRedeliversUnremoved: a long queue is
// delivered with a removal every few entries; entries acknowledged but
// not yet removed when delivery fails are removed before Deliver returns,
// and the failed one is the first sent next time.
func TestDeliverBatchesRemovalsAndRedeliversUnremoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.json")
	o, err := outbox.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		o.Append(logEntry(0, "l"))
	}
	fail := errors.New("link down")
	var sent []uint64
	err = o.Deliver(func(_ string, e outbox.Entry) error {
		if e.Seq == 150 {
			return fail
		}
		sent = append(sent, e.Seq)
		return nil
	})
	if !errors.Is(err, fail) || len(sent) != 149 {
		t.Fatalf("deliver: %v after %d sent", err, len(sent))
	}
	again, _ := outbox.Open(path)
	if p := again.Pending(); len(p) != 51 || p[0].Seq != 150 {
		t.Fatalf("after the failure %d pending from %d, want 51 from 150", len(p), p[0].Seq)
	}
	sent = nil
	if err := again.Deliver(func(_ string, e outbox.Entry) error { sent = append(sent, e.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 51 || sent[0] != 150 || sent[50] != 200 {
		t.Errorf("second delivery sent %d entries %v..", len(sent), sent[:1])
	}
}

// TestAppendWhileDelivering: entries appended while a delivery runs (a
// hook logging while the deliverer sends) are sent by it, in order, each
// once, and a bound hit meanwhile never drops an entry already handed to
// the sender (every line is either delivered or counted as dropped).
func TestAppendWhileDelivering(t *testing.T) {
	o, err := outbox.OpenLimit(filepath.Join(t.TempDir(), "outbox.json"), 5)
	if err != nil {
		t.Fatal(err)
	}
	const total = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < total; i++ {
			o.Append(logEntry(0, "l"))
		}
	}()
	var lines, dropped uint64
	prev := uint64(0)
	send := func(_ string, e outbox.Entry) error {
		if e.Seq <= prev {
			t.Errorf("seq %d sent after %d", e.Seq, prev)
		}
		prev = e.Seq
		lines += uint64(len(e.Logs))
		dropped += e.LogsDropped
		return nil
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if err := o.Deliver(send); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Deliver(send); err != nil {
		t.Fatal(err)
	}
	if lines+dropped != total || dropped != o.Dropped() {
		t.Errorf("%d lines delivered + %d reported dropped (%d counted), want %d", lines, dropped, o.Dropped(), total)
	}
}
