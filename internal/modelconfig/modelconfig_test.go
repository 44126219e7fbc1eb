package modelconfig

import (
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c := Effective(nil)
	if !c.AutomaticallyRetryHooks || c.UpdateStatusHookInterval != 5*time.Minute {
		t.Fatalf("defaults: %+v", c)
	}
	d := Describe(nil, "default", "u-1")
	if a := d[UpdateStatusHookInterval]; a.Value != "5m" || a.Source != "default" {
		t.Errorf("interval: %+v", a)
	}
	if a := d[AutomaticallyRetryHooks]; a.Value != true || a.Source != "default" {
		t.Errorf("retry: %+v", a)
	}
	if d["name"].Value != "default" || d["uuid"].Value != "u-1" {
		t.Errorf("name/uuid: %+v", d)
	}
}

func TestApplySetAndReset(t *testing.T) {
	s, err := Apply(nil, map[string]string{UpdateStatusHookInterval: "10s", AutomaticallyRetryHooks: "False"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s[UpdateStatusHookInterval] != "10s" || s[AutomaticallyRetryHooks] != "false" {
		t.Fatalf("stored: %v", s)
	}
	c := Effective(s)
	if c.AutomaticallyRetryHooks || c.UpdateStatusHookInterval != 10*time.Second {
		t.Fatalf("effective: %+v", c)
	}
	if a := Describe(s, "m", "u")[UpdateStatusHookInterval]; a.Value != "10s" || a.Source != "model" {
		t.Errorf("described: %+v", a)
	}
	r, err := Apply(s, nil, []string{UpdateStatusHookInterval})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r[UpdateStatusHookInterval]; ok || s[UpdateStatusHookInterval] != "10s" {
		t.Fatalf("reset: got %v, input changed to %v", r, s)
	}
	if a := Describe(r, "m", "u")[UpdateStatusHookInterval]; a.Value != "5m" || a.Source != "default" {
		t.Errorf("after reset: %+v", a)
	}
}

func TestApplyRefuses(t *testing.T) {
	for _, tc := range []struct {
		values map[string]string
		reset  []string
		want   string
	}{
		{map[string]string{UpdateStatusHookInterval: "often"}, nil, "expected a duration"},
		{map[string]string{UpdateStatusHookInterval: "61m"}, nil, "out of range"},
		{map[string]string{UpdateStatusHookInterval: "500ms"}, nil, "out of range"},
		{map[string]string{UpdateStatusHookInterval: "-1m"}, nil, "out of range"},
		{map[string]string{AutomaticallyRetryHooks: "maybe"}, nil, "expected true or false"},
		{map[string]string{"no-such-key": "1"}, nil, `unknown model config key "no-such-key"`},
		{map[string]string{"name": "x"}, nil, "read-only"},
		{nil, []string{"no-such-key"}, "cannot reset unknown"},
		{map[string]string{AutomaticallyRetryHooks: "true"}, []string{AutomaticallyRetryHooks}, "both set and reset"},
	} {
		cur := Settings{AutomaticallyRetryHooks: "false"}
		_, err := Apply(cur, tc.values, tc.reset)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: got %v, want %q", tc.values, tc.reset, err, tc.want)
		}
		if cur[AutomaticallyRetryHooks] != "false" || len(cur) != 1 {
			t.Errorf("input changed: %v", cur)
		}
	}
}

func TestLostAfter(t *testing.T) {
	if got := Effective(nil).LostAfter; got != DefaultLostAfter {
		t.Fatalf("default lost-after %v", got)
	}
	v, err := Normalise(LostAfter, "30s")
	if err != nil || Effective(Settings{LostAfter: v}).LostAfter != 30*time.Second {
		t.Fatalf("lost-after=30s: %q %v", v, err)
	}
	for _, bad := range []string{"500ms", "25h", "soon"} {
		if _, err := Normalise(LostAfter, bad); err == nil {
			t.Errorf("lost-after=%s accepted", bad)
		}
	}
	if d := Describe(nil, "m", "u")[LostAfter]; d.Value != "2m" || d.Source != "default" {
		t.Fatalf("describe lost-after: %+v", d)
	}
}
