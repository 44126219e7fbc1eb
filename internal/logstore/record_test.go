package logstore_test

import (
	"encoding/json"
	"testing"

	"github.com/troupe-dev/troupe/internal/logstore"
)

func TestFilter(t *testing.T) {
	r := func(entity, module string, lv logstore.Level) logstore.Record {
		return logstore.Record{Entity: entity, Module: module, Level: lv}
	}
	cases := []struct {
		f    logstore.Filter
		r    logstore.Record
		want bool
	}{
		{logstore.Filter{}, r("unit-a-0", "x", logstore.Trace), true},
		{logstore.Filter{Include: []string{"unit-a-0"}}, r("unit-a-0", "x", logstore.Info), true},
		{logstore.Filter{Include: []string{"unit-a-0"}}, r("unit-a-1", "x", logstore.Info), false},
		{logstore.Filter{Include: []string{"a/1"}}, r("unit-a-1", "x", logstore.Info), true},
		{logstore.Filter{Include: []string{"a"}}, r("unit-a-7", "x", logstore.Info), true},
		{logstore.Filter{Include: []string{"a"}}, r("unit-a-b-7", "x", logstore.Info), false},
		{logstore.Filter{Include: []string{"a-b"}}, r("unit-a-b-7", "x", logstore.Info), true},
		{logstore.Filter{Include: []string{"0"}}, r("machine-0", "x", logstore.Info), true},
		{logstore.Filter{Include: []string{"0"}}, r("unit-a-0", "x", logstore.Info), false},
		{logstore.Filter{Include: []string{"unit-a-*"}}, r("unit-a-3", "x", logstore.Info), true},
		{logstore.Filter{Include: []string{"machine-*"}}, r("unit-a-3", "x", logstore.Info), false},
		{logstore.Filter{Exclude: []string{"a/0"}}, r("unit-a-0", "x", logstore.Info), false},
		{logstore.Filter{Include: []string{"a"}, Exclude: []string{"a/0"}}, r("unit-a-1", "x", logstore.Info), true},
		{logstore.Filter{IncludeModule: []string{"juju.worker"}}, r("unit-a-0", "juju.worker.uniter", logstore.Info), true},
		{logstore.Filter{IncludeModule: []string{"juju.worker"}}, r("unit-a-0", "juju.workers", logstore.Info), false},
		{logstore.Filter{IncludeModule: []string{"juju.worker.uniter"}}, r("unit-a-0", "juju.worker.uniter", logstore.Info), true},
		{logstore.Filter{ExcludeModule: []string{"unit"}}, r("unit-a-0", "unit.a/0.juju-log", logstore.Info), false},
		{logstore.Filter{MinLevel: logstore.Warning}, r("unit-a-0", "x", logstore.Info), false},
		{logstore.Filter{MinLevel: logstore.Warning}, r("unit-a-0", "x", logstore.Warning), true},
		{logstore.Filter{MinLevel: logstore.Warning}, r("unit-a-0", "x", logstore.Critical), true},
	}
	for _, c := range cases {
		if got := c.f.Match(c.r); got != c.want {
			t.Errorf("%+v.Match(%+v) = %v, want %v", c.f, c.r, got, c.want)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]logstore.Level{"trace": logstore.Trace, "DEBUG": logstore.Debug, "Info": logstore.Info,
		"WARNING": logstore.Warning, "warn": logstore.Warning, "error": logstore.Error, "CRITICAL": logstore.Critical} {
		got, err := logstore.ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := logstore.ParseLevel("loud"); err == nil {
		t.Error("ParseLevel(loud) succeeded")
	}
	b, _ := json.Marshal(logstore.Record{Level: logstore.Warning})
	var back logstore.Record
	if err := json.Unmarshal(b, &back); err != nil || back.Level != logstore.Warning {
		t.Fatalf("level round trip through %s: %v %v", b, back.Level, err)
	}
}
