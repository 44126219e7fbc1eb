package apiserver

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/logstore"
)

func TestMayLogFor(t *testing.T) {
	machines := map[string]string{"a/0": "0", "a/1": "1"}
	machineOf := func(unit string) (string, error) { return machines[unit], nil }
	unit := entity.Tag{Kind: entity.KindUnit, Name: "a/0", Model: "m"}
	machine0 := entity.Tag{Kind: entity.KindMachine, Name: "0", Model: "m"}
	cases := []struct {
		caller entity.Tag
		who    string
		want   bool
	}{
		{unit, "unit-a-0", true},
		{unit, "unit-a-1", false},
		{unit, "machine-0", false},
		{machine0, "machine-0", true},
		{machine0, "machine-1", false},
		{machine0, "unit-a-0", true},  // assigned to machine 0
		{machine0, "unit-a-1", false}, // on machine 1
		{machine0, "unit-b-0", false}, // no such unit
		{machine0, "garbage", false},
	}
	for _, c := range cases {
		got, err := mayLogFor(c.caller, c.who, machineOf)
		if err != nil || got != c.want {
			t.Errorf("%s sending for %s: %v, %v; want %v", c.caller, c.who, got, err, c.want)
		}
	}
	boom := errors.New("store down")
	if _, err := mayLogFor(machine0, "unit-a-0", func(string) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Errorf("store error: %v", err)
	}
}

func TestStoredRecords(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	in := []*apipb.LogRecord{
		{TimeUnixNano: at.UnixNano(), Level: "DEBUG", Module: "juju.worker.uniter", Message: "one"},
		{Entity: "unit-a-0", TimeUnixNano: at.UnixNano(), Level: "bogus", Module: "unit.a/0.juju-log", Message: "two"},
	}
	got := storedRecords("machine-0", in, 0, at)
	want := []logstore.Record{
		{Entity: "machine-0", Time: at, Level: logstore.Debug, Module: "juju.worker.uniter", Message: "one"},
		{Entity: "unit-a-0", Time: at, Level: logstore.Info, Module: "unit.a/0.juju-log", Message: "two"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored %+v\nwant %+v", got, want)
	}
	got = storedRecords("unit-a-0", nil, 7, at)
	if len(got) != 1 || got[0].Level != logstore.Warning || got[0].Entity != "unit-a-0" || !strings.HasPrefix(got[0].Message, "7 log records dropped") {
		t.Fatalf("dropped record = %+v", got)
	}
}

// TestOutboxLogRecords: a unit's queued lines are stored as the unit's,
// a dropped count first, where the lines went missing.
func TestOutboxLogRecords(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	in := []*apipb.LogRecord{{TimeUnixNano: at.UnixNano(), Level: "WARNING", Module: "unit.a/0.juju-log", Message: "n=5"}}
	got := outboxLogRecords("unit-a-0", in, 3, at.Add(time.Hour))
	if len(got) != 2 {
		t.Fatalf("records %+v", got)
	}
	if got[0].Level != logstore.Warning || !got[0].Time.Equal(at) || !strings.HasPrefix(got[0].Message, "3 log lines dropped") {
		t.Errorf("dropped marker %+v", got[0])
	}
	if want := (logstore.Record{Entity: "unit-a-0", Time: at, Level: logstore.Warning, Module: "unit.a/0.juju-log", Message: "n=5"}); !reflect.DeepEqual(got[1], want) {
		t.Errorf("line %+v, want %+v", got[1], want)
	}
	if got := outboxLogRecords("unit-a-0", in, 0, at); len(got) != 1 {
		t.Errorf("no marker without drops: %+v", got)
	}
}
