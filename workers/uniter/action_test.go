package uniter

import (
	"os/exec"
	"reflect"
	"slices"
	"testing"
)

func exitErr(t *testing.T, code string) error {
	t.Helper()
	err := exec.Command("sh", "-c", "exit "+code).Run()
	if err == nil {
		t.Fatal("want an exit error")
	}
	return err
}

// TestActionOutcome pins Juju's result rules: results are the action-set
// values plus return-code and non-empty stdout/stderr; a non-zero exit or
// action-fail makes the task failed.
func TestActionOutcome(t *testing.T) {
	tests := []struct {
		name        string
		out         actionOutcome
		status, msg string
		results     map[string]any
	}{
		{"success", actionOutcome{Stdout: []byte("hi\n"), Results: map[string]any{"a": map[string]any{"b": "c"}}},
			"completed", "", map[string]any{"a": map[string]any{"b": "c"}, "return-code": 0, "stdout": "hi\n"}},
		{"action-fail, exit 0", actionOutcome{Failed: true, FailMessage: "nope"},
			"failed", "nope", map[string]any{"return-code": 0}},
		{"non-zero exit", actionOutcome{Err: exitErr(t, "3"), ReturnCode: 3, Stderr: []byte("boom\n")},
			"failed", "exit status 3", map[string]any{"return-code": 3, "stderr": "boom\n"}},
		{"action-fail and non-zero exit", actionOutcome{Err: exitErr(t, "1"), ReturnCode: 1, Failed: true, FailMessage: "why"},
			"failed", "why", map[string]any{"return-code": 1}},
		{"binary stdout", actionOutcome{Stdout: []byte{0xff, 0xfe}},
			"completed", "", map[string]any{"return-code": 0, "stdout": "//4=", "stdout-encoding": "base64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, msg, results := tt.out.decide()
			if status != tt.status || msg != tt.msg || !reflect.DeepEqual(results, tt.results) {
				t.Errorf("decide() = %q, %q, %v; want %q, %q, %v", status, msg, results, tt.status, tt.msg, tt.results)
			}
		})
	}
}

func TestActionEnv(t *testing.T) {
	env := actionEnv([]string{"JUJU_HOOK_NAME=install", "JUJU_DISPATCH_PATH=hooks/install", "JUJU_UNIT_NAME=a/0"}, "greet", "7")
	slices.Sort(env)
	want := []string{"JUJU_ACTION_NAME=greet", "JUJU_ACTION_TAG=action-7", "JUJU_ACTION_UUID=7",
		"JUJU_DISPATCH_PATH=actions/greet", "JUJU_HOOK_NAME=", "JUJU_UNIT_NAME=a/0"}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("actionEnv = %q, want %q", env, want)
	}
}

func TestMergeResults(t *testing.T) {
	dst := map[string]any{"a": map[string]any{"b": "1"}, "x": "old"}
	mergeResults(dst, map[string]any{"a": map[string]any{"c": "2"}, "x": "new"})
	mergeResults(dst, map[string]any{"x": map[string]any{"y": "3"}})
	want := map[string]any{"a": map[string]any{"b": "1", "c": "2"}, "x": map[string]any{"y": "3"}}
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("merged = %v, want %v", dst, want)
	}
}

func TestDecodeParams(t *testing.T) {
	got, err := decodeParams([]byte(`{"n":3,"f":1.5,"l":[1,{"m":2}],"s":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"n": int64(3), "f": 1.5, "l": []any{int64(1), map[string]any{"m": int64(2)}}, "s": "x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decodeParams = %#v, want %#v", got, want)
	}
	if got, err := decodeParams(nil); err != nil || len(got) != 0 {
		t.Errorf("empty params = %v, %v", got, err)
	}
}
