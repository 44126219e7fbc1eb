package statushistory

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func st(cur, msg string, sec int) entity.Status {
	return entity.Status{Current: cur, Message: msg, Since: t0.Add(time.Duration(sec) * time.Second)}
}

func TestUnitEntries(t *testing.T) {
	u := &entity.Unit{Name: "hello/0", Workload: st("waiting", "waiting for machine", 0), Agent: st("allocating", "", 0)}
	got := UnitEntries(nil, u)
	want := []Entry{
		{Seq: 1, Type: Workload, Status: "waiting", Message: "waiting for machine", Since: t0},
		{Seq: 2, Type: JujuUnit, Status: "allocating", Since: t0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("new unit: got %+v, want %+v", got, want)
	}
	cur := *u
	cur.StatusSeq = 2
	next := cur
	next.Agent = st("executing", "running install hook", 3)
	if got := UnitEntries(&cur, &next); len(got) != 1 || got[0].Seq != 3 || got[0].Type != JujuUnit || got[0].Status != "executing" {
		t.Fatalf("agent change: got %+v", got)
	}
	// The same value set again (a later Since) is no change.
	same := cur
	same.Workload.Since = t0.Add(time.Hour)
	if got := UnitEntries(&cur, &same); len(got) != 0 {
		t.Fatalf("re-set of the same status recorded %+v", got)
	}
	// A message change is a change.
	msg := cur
	msg.Workload.Message = "other"
	if got := UnitEntries(&cur, &msg); len(got) != 1 || got[0].Type != Workload {
		t.Fatalf("message change: got %+v", got)
	}
}

func TestMachineEntries(t *testing.T) {
	m := &entity.Machine{ID: "0", Agent: st("pending", "", 0), Instance: st("pending", "", 0)}
	if got := MachineEntries(nil, m); len(got) != 2 || got[0].Type != Machine || got[1].Type != JujuMachine || got[1].Seq != 2 {
		t.Fatalf("new machine: got %+v", got)
	}
	cur := *m
	cur.StatusSeq = 2
	next := cur
	next.Instance = st("running", "", 1)
	next.Agent = st("started", "", 2)
	got := MachineEntries(&cur, &next)
	if len(got) != 2 || got[0].Seq != 3 || got[0].Status != "running" || got[1].Seq != 4 || got[1].Status != "started" {
		t.Fatalf("started: got %+v", got)
	}
}

// TestRingPrunes writes many entries through Ops into a map standing for
// the store: only the newest Keep survive and Select orders them.
func TestRingPrunes(t *testing.T) {
	kv := map[string]Entry{}
	var seq uint64
	const n = 3*Keep + 7
	for i := 0; i < n; i++ {
		es := entries(seq, change{typ: Workload, next: st("active", strings.Repeat("x", i%3), i)})
		if len(es) != 1 {
			t.Fatalf("entry %d: got %d entries", i, len(es))
		}
		seq = es[0].Seq
		ops, err := Ops("m", KindUnit, "a/0", es)
		if err != nil || len(ops) != 1 {
			t.Fatal(err)
		}
		kv[Key("m", KindUnit, "a/0", es[0].Seq)] = es[0]
	}
	if len(kv) != Keep {
		t.Fatalf("%d keys kept, want %d", len(kv), Keep)
	}
	var all []Entry
	for k, e := range kv {
		if !strings.HasPrefix(k, EntityPrefix("m", KindUnit, "a/0")) {
			t.Fatalf("key %q outside the entity prefix", k)
		}
		all = append(all, e)
	}
	got := Select(all, Query{})
	for i, e := range got {
		if want := uint64(n - Keep + 1 + i); e.Seq != want {
			t.Fatalf("entry %d has seq %d, want %d", i, e.Seq, want)
		}
	}
	if last := Select(all, Query{Last: 5}); len(last) != 5 || last[4].Seq != n {
		t.Fatalf("last 5: %+v", last)
	}
	from := t0.Add(time.Duration(n-3) * time.Second)
	if recent := Select(all, Query{From: from}); len(recent) != 3 || recent[0].Seq != n-2 {
		t.Fatalf("from: %+v", recent)
	}
}

func TestSelectTypes(t *testing.T) {
	es := []Entry{{Seq: 3, Type: JujuUnit}, {Seq: 1, Type: Workload}, {Seq: 2, Type: JujuUnit}}
	got := Select(es, Query{Types: []string{JujuUnit}})
	if len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 3 {
		t.Fatalf("got %+v", got)
	}
	if es[0].Seq != 3 {
		t.Fatal("Select reordered its input")
	}
}

func TestTypes(t *testing.T) {
	for _, c := range []struct {
		kind, typ string
		want      []string
	}{
		{KindUnit, "", []string{Workload, JujuUnit}},
		{KindUnit, "unit", []string{Workload, JujuUnit}},
		{KindUnit, "workload", []string{Workload}},
		{KindUnit, "juju-unit", []string{JujuUnit}},
		{KindUnit, "machine", nil},
		{KindMachine, "", []string{Machine, JujuMachine}},
		{KindMachine, "machine", []string{Machine}},
		{KindMachine, "juju-machine", []string{JujuMachine}},
		{KindMachine, "workload", nil},
	} {
		got, ok := Types(c.kind, c.typ)
		if !reflect.DeepEqual(got, c.want) || ok != (c.want != nil) {
			t.Errorf("Types(%q, %q) = %v, %v; want %v", c.kind, c.typ, got, ok, c.want)
		}
	}
}

func TestEntryEncodes(t *testing.T) {
	ops, err := Ops("m", KindMachine, "0", []Entry{{Seq: 101, Type: Machine, Status: "running", Since: t0}})
	if err != nil || len(ops) != 1 {
		t.Fatal(err)
	}
	if k := Key("m", KindMachine, "0", 101); !strings.HasSuffix(k, "/machine/0/01") {
		t.Fatalf("key %q", k)
	}
	b, _ := json.Marshal(Entry{Seq: 1, Type: Workload, Status: "active", Since: t0})
	if !strings.Contains(string(b), `"type":"workload"`) {
		t.Fatalf("encoding %s", b)
	}
}
