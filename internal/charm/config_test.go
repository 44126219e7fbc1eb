package charm

import (
	"reflect"
	"strings"
	"testing"
)

const testConfigYAML = `
options:
  name: {type: string, default: "", description: who}
  port: {type: int, default: 8080}
  ratio: {type: float, default: 1}
  debug: {type: boolean, default: false}
  verbose: {type: boolean, default: "yes"}
  count: {type: int, default: ""}
  token: {type: secret}
  plain: {default: hi}
  stamp: {type: string, default: 2001-12-14}
  nothing:
`

func mustConfig(t *testing.T) *Config {
	t.Helper()
	c, err := ParseConfig([]byte(testConfigYAML))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseConfig(t *testing.T) {
	c := mustConfig(t)
	want := map[string]Option{
		"name":    {Type: "string", Description: "who", Default: ""},
		"port":    {Type: "int", Default: int64(8080)},
		"ratio":   {Type: "float", Default: float64(1)},
		"debug":   {Type: "boolean", Default: false},
		"verbose": {Type: "boolean", Default: true},
		"count":   {Type: "int"},
		"token":   {Type: "secret"},
		"plain":   {Type: "string", Default: "hi"},
		"stamp":   {Type: "string", Default: "2001-12-14"},
		"nothing": {Type: "string"},
	}
	if !reflect.DeepEqual(c.Options, want) {
		t.Errorf("options =\n%#v\nwant\n%#v", c.Options, want)
	}
	defaults := c.DefaultSettings()
	wantDefaults := Settings{"name": "", "port": int64(8080), "ratio": 1.0, "debug": false, "verbose": true, "plain": "hi", "stamp": "2001-12-14"}
	if !reflect.DeepEqual(defaults, wantDefaults) {
		t.Errorf("defaults = %#v, want %#v", defaults, wantDefaults)
	}
	empty, err := ParseConfig(nil)
	if err != nil || empty.Options == nil || len(empty.Options) != 0 {
		t.Errorf("empty config = %+v, %v", empty, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"top list", "- a", `expected a mapping with "options"`},
		{"options list", "options: [a]", "options: expected a mapping"},
		{"option scalar", "options:\n  a: 1", `option "a": expected a mapping`},
		{"unknown type", "options:\n  a: {type: list}", `a has unknown type "list": use one of string, int, float, boolean, secret`},
		{"type not string", "options:\n  a: {type: 1}", `option "a".type: expected a string`},
		{"string default int", "options:\n  a: {type: string, default: 1}", `option "a" default: expected a string, got integer 1`},
		{"int default float", "options:\n  a: {type: int, default: 1.5}", `option "a" default: expected an integer (int), got number 1.5`},
		{"int default word", "options:\n  a: {type: int, default: many}", `option "a" default: expected an integer (int), got "many"`},
		{"float default bool", "options:\n  a: {type: float, default: true}", `option "a" default: expected a number (float), got boolean true`},
		{"float default inf", "options:\n  a: {type: float, default: .inf}", `expected a finite number`},
		{"bool default word", "options:\n  a: {type: boolean, default: maybe}", `option "a" default: expected true or false (boolean), got "maybe"`},
		{"description type", "options:\n  a: {description: [x]}", `option "a".description: expected a string`},
		{"bad yaml", "options: {", "invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseSettingsStrings(t *testing.T) {
	c := mustConfig(t)
	got, err := c.ParseSettingsStrings(map[string]string{
		"name": "", "port": "9090", "ratio": "0.5", "debug": "true", "verbose": "no",
		"count": "", "token": "secret:abc", "plain": "x=y",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{"name": "", "port": int64(9090), "ratio": 0.5, "debug": true, "verbose": false, "count": nil, "token": "secret:abc", "plain": "x=y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings = %#v, want %#v", got, want)
	}

	errs := []struct {
		in   map[string]string
		want string
	}{
		{map[string]string{"nope": "1"}, `unknown option "nope": run "troupe config <app>" to list the charm's options`},
		{map[string]string{"port": "eighty"}, `option "port": expected an integer (int), got "eighty"`},
		{map[string]string{"port": "0x10"}, `option "port": expected an integer (int), got "0x10"`},
		{map[string]string{"ratio": "half"}, `option "ratio": expected a number (float), got "half"`},
		{map[string]string{"debug": "sure"}, `option "debug": expected true or false (boolean), got "sure"`},
	}
	for _, e := range errs {
		if _, err := c.ParseSettingsStrings(e.in); err == nil || err.Error() != e.want {
			t.Errorf("ParseSettingsStrings(%v) error = %v, want %q", e.in, err, e.want)
		}
	}
}

func TestValidateSettings(t *testing.T) {
	c := mustConfig(t)
	got, err := c.ValidateSettings(map[string]any{
		"port": 80, "ratio": int64(2), "debug": "on", "verbose": true, "name": "n", "count": nil, "plain": "p",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{"port": int64(80), "ratio": 2.0, "debug": true, "verbose": true, "name": "n", "count": nil, "plain": "p"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings = %#v, want %#v", got, want)
	}
	// JSON numbers decode as float64; whole ones are fine for int options.
	if got, err := c.ValidateSettings(map[string]any{"port": float64(81), "ratio": "3.5"}); err != nil || got["port"] != int64(81) || got["ratio"] != 3.5 {
		t.Errorf("json-style values = %#v, %v", got, err)
	}
	errs := []struct {
		in   map[string]any
		want string
	}{
		{map[string]any{"x": 1}, `unknown option "x"`},
		{map[string]any{"port": 1.5}, `option "port": expected an integer (int), got number 1.5`},
		{map[string]any{"name": 5}, `option "name": expected a string, got integer 5`},
		{map[string]any{"debug": 1}, `option "debug": expected true or false (boolean), got integer 1`},
		{map[string]any{"ratio": []any{1}}, `option "ratio": expected a number (float), got a list`},
	}
	for _, e := range errs {
		if _, err := c.ValidateSettings(e.in); err == nil || !strings.Contains(err.Error(), e.want) {
			t.Errorf("ValidateSettings(%v) error = %v, want %q", e.in, err, e.want)
		}
	}
}

func TestSettingsHash(t *testing.T) {
	a := Settings{"a": "x", "b": int64(1), "c": true}
	b := Settings{"c": true, "b": int64(1), "a": "x"}
	if a.Hash() != b.Hash() {
		t.Error("hash depends on map order")
	}
	if len(a.Hash()) != 64 {
		t.Errorf("hash %q is not hex sha256", a.Hash())
	}
	if Settings(nil).Hash() != (Settings{}).Hash() {
		t.Error("nil and empty settings hash differently")
	}
	for _, other := range []Settings{
		{"a": "x", "b": int64(2), "c": true},
		{"a": "x", "b": "1", "c": true},
		{"a": "x", "b": int64(1)},
		{"a": "x", "b": int64(1), "c": true, "d": nil},
	} {
		if other.Hash() == a.Hash() {
			t.Errorf("%v hashes like %v", other, a)
		}
	}
}
