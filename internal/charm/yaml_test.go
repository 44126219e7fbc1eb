package charm

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeYAML(t *testing.T) {
	got, err := decodeYAML([]byte(`
a: &a {x: 1}
b: &b {y: 2}
m:
  <<: [*a, *b]
  x: 3
t: 2001-12-14
i: 0x10
big: 99999999999999999999
f: 1.5
n: ~
s: yes
l: [1, "2"]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": map[string]any{"x": int64(1)}, "b": map[string]any{"y": int64(2)},
		"m": map[string]any{"x": int64(3), "y": int64(2)},
		"t": "2001-12-14", "i": int64(16), "big": 1e20, "f": 1.5, "n": nil, "s": "yes",
		"l": []any{int64(1), "2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded =\n%#v\nwant\n%#v", got, want)
	}
	if v, err := decodeYAML(nil); v != nil || err != nil {
		t.Errorf("empty = %v, %v", v, err)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"? [a]\n: 1", "mapping keys must be plain values"},
		{"<<: 1", "merge key needs a mapping"},
		{"<<: [1]", "merge key needs a mapping"},
		{strings.Repeat("[", 300) + strings.Repeat("]", 300), "nesting deeper than"},
		{"a: b: c", "invalid YAML"},
	} {
		if _, err := decodeYAML([]byte(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("decodeYAML(%.20q) error = %v, want %q", tt.yaml, err, tt.want)
		}
	}
}

func TestNumberConversions(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want int64
		ok   bool
	}{
		{int(1), 1, true}, {int8(-2), -2, true}, {int16(3), 3, true}, {int32(4), 4, true}, {int64(5), 5, true},
		{uint(6), 6, true}, {uint8(7), 7, true}, {uint16(8), 8, true}, {uint32(9), 9, true}, {uint64(10), 10, true},
		{uint64(math.MaxUint64), 0, false}, {float32(2), 2, true}, {2.5, 0, false}, {math.Inf(1), 0, false},
		{1e300, 0, false}, {"1", 0, false}, {nil, 0, false},
	} {
		got, ok := asInt64(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("asInt64(%#v) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if f, ok := asFloat64(float32(0.5)); !ok || f != 0.5 {
		t.Errorf("asFloat64(float32) = %v, %v", f, ok)
	}
	if _, ok := asFloat64("1"); ok {
		t.Error("asFloat64 accepted a string")
	}
	for s, want := range map[string]bool{"yes": true, "On": true, "T": true, "0": false, "off": false, "n": false} {
		if got, ok := parseBool(s); !ok || got != want {
			t.Errorf("parseBool(%q) = %v, %v", s, got, ok)
		}
	}
	if _, ok := parseBool("maybe"); ok {
		t.Error("parseBool accepted maybe")
	}
}

func TestEnumAndHashEdgeCases(t *testing.T) {
	a, err := ParseActions([]byte("a:\n  params:\n    n: {enum: [1, 2.5, [x], {k: v}, null, true]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{1, int64(1), 1.0, 2.5, []any{"x"}, map[string]any{"k": "v"}, nil, true} {
		if _, err := a.ValidateParams("a", map[string]any{"n": v}); err != nil {
			t.Errorf("enum value %#v rejected: %v", v, err)
		}
	}
	for _, v := range []any{2, "1", []any{"y"}, []any{"x", "x"}, map[string]any{"k": "w"}, map[string]any{}, false} {
		if _, err := a.ValidateParams("a", map[string]any{"n": v}); err == nil || !strings.Contains(err.Error(), "is not one of") {
			t.Errorf("enum value %#v: %v", v, err)
		}
	}
	// Hand-built settings that JSON cannot encode still hash stably.
	odd := Settings{"x": math.NaN()}
	if odd.Hash() != odd.Hash() || odd.Hash() == (Settings{"x": 1.0}).Hash() {
		t.Error("unencodable settings hash unstably or collide")
	}
}
