package cli

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitRunArgs(t *testing.T) {
	recv, action, kvs, err := splitRunArgs([]string{"a/0", "a/leader", "greet", "x=1", "y.z=2"})
	if err != nil || !reflect.DeepEqual(recv, []string{"a/0", "a/leader"}) || action != "greet" || !reflect.DeepEqual(kvs, []string{"x=1", "y.z=2"}) {
		t.Errorf("splitRunArgs = %v %q %v %v", recv, action, kvs, err)
	}
	for _, bad := range [][]string{{}, {"greet"}, {"a/0"}, {"a/0", "x=1"}, {"a/0", "greet", "oops"}} {
		if _, _, _, err := splitRunArgs(bad); err == nil {
			t.Errorf("splitRunArgs(%q) must fail", bad)
		}
	}
}

func TestActionParams(t *testing.T) {
	file := []byte("name: from-file\nnested:\n  keep: 1\nlist: [a, b]\n")
	got, err := actionParams(file, []string{"count=3", "flag=true", "name=cli", "nested.add=x", "a.b=c", "empty="}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name": "cli", "count": 3, "flag": true, "list": []any{"a", "b"}, "empty": "",
		"nested": map[string]any{"keep": 1, "add": "x"}, "a": map[string]any{"b": "c"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("actionParams =\n %#v\nwant\n %#v", got, want)
	}
	got, err = actionParams(nil, []string{"count=3"}, true)
	if err != nil || got["count"] != "3" {
		t.Errorf("--string-args keeps strings: %v, %v", got, err)
	}
	if _, err := actionParams([]byte("- a\n- b\n"), nil, false); err == nil || !strings.Contains(err.Error(), "not a YAML mapping") {
		t.Errorf("a YAML list file must be refused: %v", err)
	}
	if _, err := actionParams(nil, []string{"a..b=1"}, false); err == nil {
		t.Error("an empty key segment must be refused")
	}
}
