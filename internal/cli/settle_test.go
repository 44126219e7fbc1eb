package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/fullstatus"
)

func TestMeasure(t *testing.T) {
	st := func(cur, msg string) *fullstatus.StatusInfo {
		return &fullstatus.StatusInfo{Current: cur, Message: msg}
	}
	doc := &fullstatus.Status{Applications: map[string]fullstatus.Application{
		"a": {Units: map[string]fullstatus.Unit{
			"a/0": {WorkloadStatus: st("active", ""), JujuStatus: st("idle", "")},
			"a/1": {WorkloadStatus: st("maintenance", ""), JujuStatus: st("executing", "running install hook")},
			"a/2": {WorkloadStatus: st("error", `hook failed: "start"`), JujuStatus: st("idle", "")},
		}},
		"b": {Units: map[string]fullstatus.Unit{"b/0": {WorkloadStatus: st("waiting", ""), JujuStatus: st("allocating", "")}}},
	}}
	p := measure(doc, []string{"a"}, nil)
	want := progress{Settled: 2, Total: 3, Running: []string{"a/1: running install hook"}, Errors: []string{`a/2: hook failed: "start"`}}
	if !reflect.DeepEqual(p, want) || p.Done() {
		t.Errorf("a: %+v", p)
	}
	if p := measure(doc, []string{"b", "c"}, map[string]int{"b": 3}); p.Done() || p.Total != 4 || len(p.Running) != 3 {
		t.Errorf("missing units and a missing application must not settle: %+v", p)
	}
	if p := measure(doc, nil, nil); p.Total != 4 || p.Settled != 2 {
		t.Errorf("all applications: %+v", p)
	}
	if s := want.String(); !strings.Contains(s, "units settled 2/3") || !strings.Contains(s, "in error") {
		t.Errorf("progress line %q", s)
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := configFile(write("a.yaml", "hello:\n  greeting: hi\n  debug: true\n  n: 3\n"), "hello")
	if err != nil || !reflect.DeepEqual(got, map[string]string{"greeting": "hi", "debug": "true", "n": "3"}) {
		t.Errorf("app-keyed file: %v %v", got, err)
	}
	got, err = configFile(write("b.yaml", "greeting: yo\n"), "hello")
	if err != nil || got["greeting"] != "yo" {
		t.Errorf("flat file: %v %v", got, err)
	}
	if _, err := configFile(write("c.yaml", "greeting: [1, 2]\n"), "hello"); err == nil {
		t.Error("a nested value was accepted")
	}
	if _, err := configFile(filepath.Join(dir, "missing.yaml"), "hello"); err == nil {
		t.Error("a missing file was accepted")
	}
}
