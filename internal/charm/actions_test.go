package charm

import (
	"reflect"
	"strings"
	"testing"
)

const testActionsYAML = `
backup:
  description: Back up.
  title: Backup
  params:
    target: {type: string, default: /tmp/b, minLength: 2}
    level: {type: integer, minimum: 1, maximum: 9, default: 5}
    ratio: {type: number, exclusiveMinimum: true, minimum: 0}
    mode: {type: string, enum: [full, incremental]}
    tags: {type: array, items: {type: string}, maxItems: 2}
    opts:
      type: object
      properties:
        fast: {type: boolean, default: true}
        name: {type: string, pattern: "^[a-z]+$"}
      required: [name]
      additionalProperties: false
    id: {type: [string, "null"]}
  required: [target]
open:
  additionalProperties: true
  parallel: true
  execution-group: grp
empty:
`

func mustActions(t *testing.T) *Actions {
	t.Helper()
	a, err := ParseActions([]byte(testActionsYAML))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestParseActions(t *testing.T) {
	a := mustActions(t)
	if got := a.Names(); !reflect.DeepEqual(got, []string{"backup", "empty", "open"}) {
		t.Errorf("names = %v", got)
	}
	b := a.Specs["backup"]
	if b.Description != "Back up." || !reflect.DeepEqual(b.Required, []string{"target"}) || b.AdditionalProperties || len(b.Params) != 7 {
		t.Errorf("backup = %+v", b)
	}
	o := a.Specs["open"]
	if !o.AdditionalProperties || !o.Parallel || o.ExecutionGroup != "grp" {
		t.Errorf("open = %+v", o)
	}
	if e, ok := a.Specs["empty"]; !ok || e.AdditionalProperties || e.Params != nil {
		t.Errorf("empty = %+v, %v", e, ok)
	}
	none, err := ParseActions([]byte("  \n"))
	if err != nil || none.Specs == nil || len(none.Specs) != 0 {
		t.Errorf("empty file = %+v, %v", none, err)
	}
}

func TestParseActionsErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"top list", "- a", "expected a mapping of action names"},
		{"upper name", "Backup: {}", `invalid action name "Backup"`},
		{"trailing dash", "backup-: {}", `invalid action name "backup-"`},
		{"underscore", "back_up: {}", `invalid action name "back_up"`},
		{"reserved", "juju-run: {}", `action "juju-run" uses a reserved name`},
		{"reserved bare", "juju: {}", `action "juju" uses a reserved name`},
		{"spec list", "a: [x]", `action "a": expected a mapping`},
		{"description type", "a: {description: 1}", `action "a".description: expected a string`},
		{"params list", "a: {params: [x]}", `action "a".params: expected a mapping`},
		{"param not map", "a: {params: {x: 1}}", `param "x": expected a JSON-schema mapping`},
		{"required type", "a: {required: x}", `action "a".required: expected a list`},
		{"required item", "a: {required: [1]}", `action "a".required[0]: expected a string`},
		{"additional type", "a: {additionalProperties: no}", `action "a".additionalProperties: expected true or false`},
		{"parallel type", "a: {parallel: 1}", `action "a".parallel: expected true or false`},
		{"group type", "a: {execution-group: [x]}", `action "a".execution-group: expected a string`},
		{"ref", "a: {params: {x: {$ref: '#/y'}}}", `schema keyword "$ref" is not supported`},
		{"nested ref", "a: {params: {x: {type: object, properties: {y: {$ref: z}}}}}", `action "a".x.y: schema keyword "$ref"`},
		{"bad type", "a: {params: {x: {type: int}}}", `action "a".x.type: unknown type "int"`},
		{"bad type list", "a: {params: {x: {type: [string, 1]}}}", `expected a type name, got integer`},
		{"bad pattern", "a: {params: {x: {pattern: '(?<=a)'}}}", `is not a regular expression`},
		{"enum not list", "a: {params: {x: {enum: a}}}", `.enum: expected a list`},
		{"minimum type", "a: {params: {x: {minimum: low}}}", `.minimum: expected a number`},
		{"nested required", "a: {params: {x: {type: object, required: y}}}", `.required: expected a list of names`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseActions([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestActionParamNamedLikeKeywords(t *testing.T) {
	a, err := ParseActions([]byte("a:\n  params:\n    type: {type: string}\n    id: {type: integer}\n    definitions: {type: string}\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.ValidateParams("a", map[string]any{"type": "x", "id": 3})
	if err != nil || got["type"] != "x" {
		t.Errorf("ValidateParams = %v, %v", got, err)
	}
}

func TestValidateParams(t *testing.T) {
	a := mustActions(t)
	in := map[string]any{"ratio": 0.5, "opts": map[string]any{"name": "abc"}, "tags": []any{"x"}}
	got, err := a.ValidateParams("backup", in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"target": "/tmp/b", "level": int64(5), "ratio": 0.5, "tags": []any{"x"},
		"opts": map[string]any{"name": "abc", "fast": true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("params = %#v, want %#v", got, want)
	}
	if _, filled := in["target"]; filled {
		t.Error("ValidateParams modified its input")
	}
	if _, filled := in["opts"].(map[string]any)["fast"]; filled {
		t.Error("ValidateParams modified a nested input map")
	}
	if got, err := a.ValidateParams("open", map[string]any{"anything": 1}); err != nil || got["anything"] != 1 {
		t.Errorf("open = %v, %v", got, err)
	}
	if got, err := a.ValidateParams("empty", nil); err != nil || len(got) != 0 {
		t.Errorf("empty = %v, %v", got, err)
	}
	// Integers arrive as int, int64 or whole float64 depending on the decoder.
	for _, level := range []any{3, int64(3), float64(3), uint8(3)} {
		if _, err := a.ValidateParams("backup", map[string]any{"level": level}); err != nil {
			t.Errorf("level %T: %v", level, err)
		}
	}
	if _, err := a.ValidateParams("backup", map[string]any{"id": nil}); err != nil {
		t.Errorf("null id: %v", err)
	}
}

func TestValidateParamsErrors(t *testing.T) {
	a := mustActions(t)
	tests := []struct {
		action string
		params map[string]any
		want   string
	}{
		{"nope", nil, `unknown action "nope": run "troupe actions <app>" to list the charm's actions`},
		{"empty", map[string]any{"x": 1}, `action "empty": param "x" is not declared by the action; declared params: none`},
		{"backup", map[string]any{"bogus": 1}, `param "bogus" is not declared by the action; declared params: id, level, mode, opts, ratio, tags, target`},
		{"backup", map[string]any{"target": 1}, `param "target": expected string, got integer`},
		{"backup", map[string]any{"target": "x"}, `param "target": shorter than 2 characters`},
		{"backup", map[string]any{"level": 1.5}, `param "level": expected integer, got number`},
		{"backup", map[string]any{"level": "3"}, `param "level": expected integer, got string`},
		{"backup", map[string]any{"level": 0}, `param "level": 0 is below the minimum 1`},
		{"backup", map[string]any{"level": 10}, `param "level": 10 is above the maximum 9`},
		{"backup", map[string]any{"ratio": 0}, `param "ratio": 0 is below the minimum 0`},
		{"backup", map[string]any{"ratio": "x"}, `param "ratio": expected number, got string`},
		{"backup", map[string]any{"mode": "partial"}, `param "mode": "partial" is not one of ["full", "incremental"]`},
		{"backup", map[string]any{"tags": "x"}, `param "tags": expected array, got string`},
		{"backup", map[string]any{"tags": []any{1}}, `param "tags[0]": expected string, got integer`},
		{"backup", map[string]any{"tags": []any{"a", "b", "c"}}, `param "tags": more than 2 items`},
		{"backup", map[string]any{"opts": "x"}, `param "opts": expected object, got string`},
		{"backup", map[string]any{"opts": map[string]any{}}, `param "opts.name" is required`},
		{"backup", map[string]any{"opts": map[string]any{"name": "A"}}, `param "opts.name": "A" does not match the pattern "^[a-z]+$"`},
		{"backup", map[string]any{"opts": map[string]any{"name": "a", "x": 1}}, `param "opts.x" is not declared`},
		{"backup", map[string]any{"opts": map[string]any{"name": "a", "fast": "yes"}}, `param "opts.fast": expected boolean, got string`},
		{"backup", map[string]any{"id": 1}, `param "id": expected string or null, got integer`},
	}
	for _, tt := range tests {
		_, err := a.ValidateParams(tt.action, tt.params)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidateParams(%s, %v) error = %v, want it to contain %q", tt.action, tt.params, err, tt.want)
		}
	}
	// The top-level required list is checked after defaults are filled,
	// so a required param without a default must be given.
	req, err := ParseActions([]byte("a:\n  params:\n    x: {type: string}\n  required: [x]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := req.ValidateParams("a", nil); err == nil || err.Error() != `action "a": param "x" is required` {
		t.Errorf("missing required: %v", err)
	}
}
