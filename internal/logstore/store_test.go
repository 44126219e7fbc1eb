package logstore_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/logstore"
)

func rec(entity string, lv logstore.Level, msg string) logstore.Record {
	return logstore.Record{Entity: entity, Time: time.Unix(1700000000, 0).UTC(), Level: lv, Module: "juju.worker.uniter", Message: msg}
}

func open(t *testing.T, cfg logstore.Config) *logstore.Store {
	t.Helper()
	cfg.NoSync = true
	s, err := logstore.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func messages(recs []logstore.Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.Message)
	}
	return out
}

func appendN(t *testing.T, s *logstore.Store, model string, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if _, err := s.Append(model, []logstore.Record{rec("unit-a-0", logstore.Info, fmt.Sprintf("m%03d", i))}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendSequenceAndReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, logstore.Config{Dir: dir})
	got, err := s.Append("m1", []logstore.Record{rec("unit-a-0", logstore.Info, "one"), rec("unit-a-1", logstore.Warning, "two")})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Seq != 1 || got[1].Seq != 2 || got[0].Model != "m1" {
		t.Fatalf("stored records = %+v", got)
	}
	if _, err := s.Append("m2", []logstore.Record{rec("machine-0", logstore.Info, "other model")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Append("m1", nil); err != logstore.ErrClosed {
		t.Fatalf("append after close: %v, want ErrClosed", err)
	}

	s = open(t, logstore.Config{Dir: dir})
	got, err = s.Append("m1", []logstore.Record{rec("unit-a-0", logstore.Info, "three")})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Seq != 3 {
		t.Fatalf("sequence after reopen = %d, want 3", got[0].Seq)
	}
	all, _, err := s.After("m1", 0, logstore.Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"one", "two", "three"}; !reflect.DeepEqual(messages(all), want) {
		t.Fatalf("m1 = %v, want %v", messages(all), want)
	}
	m2, _, _ := s.After("m2", 0, logstore.Filter{}, 0)
	if want := []string{"other model"}; !reflect.DeepEqual(messages(m2), want) {
		t.Fatalf("m2 = %v, want %v", messages(m2), want)
	}
}

func TestRotationAndRetention(t *testing.T) {
	dir := t.TempDir()
	// Each record line is ~150 bytes: a 1000-byte file holds 6.
	s := open(t, logstore.Config{Dir: dir, MaxFileSize: 1000, MaxFiles: 2, Window: 5})
	appendN(t, s, "m", 1, 100)
	files, _ := filepath.Glob(filepath.Join(dir, "m", "*.jsonl"))
	if len(files) != 3 { // two rotated + current
		t.Fatalf("files = %v, want 2 rotated and current.jsonl", files)
	}
	var total int64
	for _, f := range files {
		st, _ := os.Stat(f)
		if st.Size() > 1000 {
			t.Errorf("%s is %d bytes, over MaxFileSize", f, st.Size())
		}
		total += st.Size()
	}
	all, _, err := s.After("m", 0, logstore.Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 || len(all) >= 100 || all[len(all)-1].Message != "m100" {
		t.Fatalf("after rotation kept %d records ending %v", len(all), messages(all[len(all)-1:]))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq != all[i-1].Seq+1 {
			t.Fatalf("gap in kept records at %d: %d then %d", i, all[i-1].Seq, all[i].Seq)
		}
	}
	// Reading from an old position falls back to the files (the window
	// holds only 5): everything kept after seq 90.
	got, _, _ := s.After("m", 90, logstore.Filter{}, 0)
	if len(got) != 10 || got[0].Message != "m091" {
		t.Fatalf("after 90 = %v", messages(got))
	}
	got, _, _ = s.After("m", 90, logstore.Filter{}, 3)
	if want := []string{"m091", "m092", "m093"}; !reflect.DeepEqual(messages(got), want) {
		t.Fatalf("after 90, max 3 = %v, want %v", messages(got), want)
	}
	// Last beyond the window reads the files too.
	last, seq, _ := s.Last("m", 8, logstore.Filter{})
	if seq != 100 || len(last) != 8 || last[0].Message != "m093" || last[7].Message != "m100" {
		t.Fatalf("last 8 = %v (seq %d)", messages(last), seq)
	}
	s.Close()
	// Reopen: the sequence continues from the newest file.
	s = open(t, logstore.Config{Dir: dir, MaxFileSize: 1000, MaxFiles: 2, Window: 5})
	out, _ := s.Append("m", []logstore.Record{rec("unit-a-0", logstore.Info, "after")})
	if out[0].Seq != 101 {
		t.Fatalf("seq after reopen = %d, want 101", out[0].Seq)
	}
}

func TestTornLineIgnored(t *testing.T) {
	dir := t.TempDir()
	s := open(t, logstore.Config{Dir: dir})
	appendN(t, s, "m", 1, 2)
	s.Close()
	f, _ := os.OpenFile(filepath.Join(dir, "m", "current.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":3,"mess`)
	f.Close()
	s = open(t, logstore.Config{Dir: dir})
	all, _, err := s.After("m", 0, logstore.Filter{}, 0)
	if err != nil || len(all) != 2 {
		t.Fatalf("after a torn line: %v, %v", messages(all), err)
	}
}

func TestChangedWakesWaiters(t *testing.T) {
	s := open(t, logstore.Config{Dir: t.TempDir()})
	ch, err := s.Changed("m")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatal("changed before any append")
	default:
	}
	appendN(t, s, "m", 1, 1)
	<-ch // closed by the append; a missing wake-up hangs the test
	ch2, _ := s.Changed("m")
	s.Close()
	<-ch2 // closed by Close
	<-s.Closed()
}

func TestLastFiltered(t *testing.T) {
	s := open(t, logstore.Config{Dir: t.TempDir()})
	s.Append("m", []logstore.Record{
		rec("unit-a-0", logstore.Info, "a0-1"), rec("unit-b-0", logstore.Info, "b0-1"),
		rec("unit-a-0", logstore.Warning, "a0-2"), rec("unit-a-0", logstore.Info, "a0-3"),
	})
	got, seq, _ := s.Last("m", 2, logstore.Filter{Include: []string{"a/0"}})
	if want := []string{"a0-2", "a0-3"}; seq != 4 || !reflect.DeepEqual(messages(got), want) {
		t.Fatalf("last 2 of a/0 = %v (seq %d), want %v", messages(got), seq, want)
	}
	got, _, _ = s.Last("m", 10, logstore.Filter{MinLevel: logstore.Warning})
	if want := []string{"a0-2"}; !reflect.DeepEqual(messages(got), want) {
		t.Fatalf("warnings = %v, want %v", messages(got), want)
	}
	got, _, _ = s.Last("m", 0, logstore.Filter{})
	if len(got) != 0 {
		t.Fatalf("last 0 = %v", messages(got))
	}
}
