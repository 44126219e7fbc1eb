package charm

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strings"
)

// Actions is the parsed actions.yaml.
type Actions struct {
	Specs map[string]ActionSpec // never nil after parsing
}

// ActionSpec is one action. Params, Required and AdditionalProperties
// together form the JSON schema of the action's parameters object.
type ActionSpec struct {
	Description string
	// Params maps parameter names to their JSON-schema fragments.
	Params   map[string]any
	Required []string
	// AdditionalProperties allows undeclared parameters; Juju's default
	// is false.
	AdditionalProperties bool
	Parallel             bool
	ExecutionGroup       string
}

var actionNameRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

// ValidActionName reports whether name may name an action (reserved
// names aside).
func ValidActionName(name string) bool {
	return actionNameRE.MatchString(name)
}

// ParseActions parses the content of an actions.yaml file. Empty content
// gives no actions.
func ParseActions(data []byte) (*Actions, error) {
	raw, err := decodeYAML(data)
	if err != nil {
		return nil, fmt.Errorf("invalid actions: %w", err)
	}
	a, err := parseActionsTree(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid actions: %w", err)
	}
	return a, nil
}

func parseActionsTree(raw any) (*Actions, error) {
	a := &Actions{Specs: map[string]ActionSpec{}}
	if raw == nil {
		return a, nil
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected a mapping of action names, got %s", typeName(raw))
	}
	for _, name := range sortedKeys(top) {
		if !ValidActionName(name) {
			return nil, fmt.Errorf("invalid action name %q: use lowercase letters, digits and dashes, not starting or ending with a dash", name)
		}
		if name == "juju" || strings.HasPrefix(name, "juju-") {
			return nil, fmt.Errorf("action %q uses a reserved name (\"juju\" and the \"juju-\" prefix are kept for Juju); rename it", name)
		}
		spec, err := parseActionSpec(name, top[name])
		if err != nil {
			return nil, err
		}
		a.Specs[name] = spec
	}
	return a, nil
}

func parseActionSpec(name string, raw any) (ActionSpec, error) {
	path := fmt.Sprintf("action %q", name)
	var spec ActionSpec
	if raw == nil {
		return spec, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return spec, fmt.Errorf("%s: expected a mapping, got %s", path, typeName(raw))
	}
	f := fields{m: m, path: path}
	var err error
	if spec.Description, err = f.str("description"); err != nil {
		return spec, err
	}
	if _, err = f.str("title"); err != nil {
		return spec, err
	}
	if spec.Params, err = f.mapping("params"); err != nil {
		return spec, err
	}
	if spec.Required, err = f.strings("required"); err != nil {
		return spec, err
	}
	if v, ok := m["additionalProperties"]; ok && v != nil {
		b, ok := v.(bool)
		if !ok {
			return spec, fmt.Errorf("%s.additionalProperties: expected true or false, got %s", path, typeName(v))
		}
		spec.AdditionalProperties = b
	}
	if spec.Parallel, err = f.boolean("parallel"); err != nil {
		return spec, err
	}
	if spec.ExecutionGroup, err = f.str("execution-group"); err != nil {
		return spec, err
	}
	if err := checkSchema(m, path, 0); err != nil {
		return spec, err
	}
	return spec, nil
}

// checkSchema walks a JSON-schema node and refuses what cannot work: $ref
// (Juju refuses it too) and malformed keywords this package validates, so
// a bad schema fails when the charm is read rather than when an action
// runs. Keywords the validator does not implement (allOf, oneOf, format,
// ...) are accepted and not enforced. At the top level of an action,
// "params" holds the properties.
func checkSchema(schema map[string]any, path string, depth int) error {
	if depth > maxYAMLDepth {
		return fmt.Errorf("%s: schema nested too deeply", path)
	}
	for _, k := range sortedKeys(schema) {
		v := schema[k]
		switch k {
		case "$ref":
			return fmt.Errorf("%s: schema keyword \"$ref\" is not supported; inline the referenced schema", path)
		case "type":
			if err := checkSchemaType(v, path); err != nil {
				return err
			}
		case "pattern":
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("%s.pattern: expected a string, got %s", path, typeName(v))
			}
			if _, err := regexp.Compile(s); err != nil {
				return fmt.Errorf("%s.pattern: %q is not a regular expression this agent understands: %v", path, s, err)
			}
		case "enum":
			if _, ok := v.([]any); !ok {
				return fmt.Errorf("%s.enum: expected a list, got %s", path, typeName(v))
			}
		case "minimum", "maximum":
			if _, ok := asFloat64(v); !ok {
				return fmt.Errorf("%s.%s: expected a number, got %s", path, k, typeName(v))
			}
		case "required":
			l, ok := v.([]any)
			if !ok && depth > 0 {
				return fmt.Errorf("%s.required: expected a list of names, got %s", path, typeName(v))
			}
			for _, item := range l {
				if _, ok := item.(string); !ok {
					return fmt.Errorf("%s.required: expected a list of names, got a %s in it", path, typeName(item))
				}
			}
		case "properties", "params":
			if k == "params" && depth > 0 {
				continue
			}
			props, ok := v.(map[string]any)
			if !ok && v != nil {
				return fmt.Errorf("%s.%s: expected a mapping of names to schemas, got %s", path, k, typeName(v))
			}
			for _, name := range sortedKeys(props) {
				sub, ok := props[name].(map[string]any)
				if !ok && props[name] != nil {
					return fmt.Errorf("%s: param %q: expected a JSON-schema mapping, got %s", path, name, typeName(props[name]))
				}
				if err := checkSchema(sub, path+"."+name, depth+1); err != nil {
					return err
				}
			}
		case "items", "additionalProperties":
			switch sub := v.(type) {
			case map[string]any:
				if err := checkSchema(sub, path+"."+k, depth+1); err != nil {
					return err
				}
			case []any:
				for i, item := range sub {
					if m, ok := item.(map[string]any); ok {
						if err := checkSchema(m, fmt.Sprintf("%s.%s[%d]", path, k, i), depth+1); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

func checkSchemaType(t any, path string) error {
	check := func(s any) error {
		name, ok := s.(string)
		if !ok {
			return fmt.Errorf("%s.type: expected a type name, got %s", path, typeName(s))
		}
		switch name {
		case "string", "integer", "number", "boolean", "array", "object", "null":
			return nil
		}
		return fmt.Errorf("%s.type: unknown type %q (use string, integer, number, boolean, array, object or null)", path, name)
	}
	if l, ok := t.([]any); ok {
		for _, s := range l {
			if err := check(s); err != nil {
				return err
			}
		}
		return nil
	}
	return check(t)
}

// ValidateParams checks params against the named action's schema and
// returns a copy with schema defaults filled in. It rejects undeclared
// parameters unless the action allows them, missing required ones, and
// values of the wrong type, outside an enum or outside minimum/maximum.
// params is not modified.
func (a *Actions) ValidateParams(name string, params map[string]any) (map[string]any, error) {
	spec, ok := a.Specs[name]
	if !ok {
		return nil, fmt.Errorf("unknown action %q: run \"troupe actions <app>\" to list the charm's actions", name)
	}
	schema := map[string]any{
		"type":                 "object",
		"properties":           spec.Params,
		"additionalProperties": spec.AdditionalProperties,
	}
	if len(spec.Required) > 0 {
		req := make([]any, len(spec.Required))
		for i, r := range spec.Required {
			req[i] = r
		}
		schema["required"] = req
	}
	if params == nil {
		params = map[string]any{}
	}
	out := deepCopy(params)
	if err := validateValue(schema, out, "", 0); err != nil {
		return nil, fmt.Errorf("action %q: %w", name, err)
	}
	return out.(map[string]any), nil
}

func paramPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describeParam(path string) string {
	if path == "" {
		return "params"
	}
	return fmt.Sprintf("param %q", path)
}

// validateValue checks v against schema. Objects are filled with their
// properties' defaults in place, so v must be a private copy.
func validateValue(schema map[string]any, v any, path string, depth int) error {
	if depth > maxYAMLDepth {
		return fmt.Errorf("%s: nested too deeply", describeParam(path))
	}
	if t, ok := schema["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, s := range t {
				if s, ok := s.(string); ok {
					types = append(types, s)
				}
			}
		}
		matched := len(types) == 0
		for _, typ := range types {
			if matchesType(typ, v) {
				matched = true
				break
			}
		}
		if !matched {
			return fmt.Errorf("%s: expected %s, got %s", describeParam(path), strings.Join(types, " or "), typeName(v))
		}
	}
	if enum, ok := schema["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if jsonEqual(e, v) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s: %s is not one of %s", describeParam(path), describeValue(v), describeEnum(enum))
		}
	}
	if f, ok := asFloat64(v); ok && isNumber(v) {
		if lo, ok := asFloat64(schema["minimum"]); ok {
			excl, _ := schema["exclusiveMinimum"].(bool)
			if f < lo || (excl && f == lo) {
				return fmt.Errorf("%s: %v is below the minimum %v", describeParam(path), v, schema["minimum"])
			}
		}
		if hi, ok := asFloat64(schema["maximum"]); ok {
			excl, _ := schema["exclusiveMaximum"].(bool)
			if f > hi || (excl && f == hi) {
				return fmt.Errorf("%s: %v is above the maximum %v", describeParam(path), v, schema["maximum"])
			}
		}
	}
	switch v := v.(type) {
	case string:
		n := len([]rune(v))
		if lo, ok := asInt64(schema["minLength"]); ok && int64(n) < lo {
			return fmt.Errorf("%s: shorter than %d characters", describeParam(path), lo)
		}
		if hi, ok := asInt64(schema["maxLength"]); ok && int64(n) > hi {
			return fmt.Errorf("%s: longer than %d characters", describeParam(path), hi)
		}
		if p, ok := schema["pattern"].(string); ok {
			re, err := regexp.Compile(p)
			if err == nil && !re.MatchString(v) {
				return fmt.Errorf("%s: %q does not match the pattern %q", describeParam(path), v, p)
			}
		}
	case []any:
		if lo, ok := asInt64(schema["minItems"]); ok && int64(len(v)) < lo {
			return fmt.Errorf("%s: fewer than %d items", describeParam(path), lo)
		}
		if hi, ok := asInt64(schema["maxItems"]); ok && int64(len(v)) > hi {
			return fmt.Errorf("%s: more than %d items", describeParam(path), hi)
		}
		if items, ok := schema["items"].(map[string]any); ok {
			for i, item := range v {
				if err := validateValue(items, item, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		return validateObject(schema, v, path, depth)
	}
	return nil
}

func validateObject(schema map[string]any, v map[string]any, path string, depth int) error {
	props, _ := schema["properties"].(map[string]any)
	for _, key := range sortedKeys(props) {
		prop, _ := props[key].(map[string]any)
		if def, ok := prop["default"]; ok {
			if _, set := v[key]; !set {
				v[key] = deepCopy(def)
			}
		}
	}
	if req, ok := schema["required"].([]any); ok {
		for _, r := range req {
			key, _ := r.(string)
			if _, set := v[key]; !set {
				return fmt.Errorf("%s is required", describeParam(paramPath(path, key)))
			}
		}
	}
	additional := schema["additionalProperties"]
	for _, key := range sortedKeys(v) {
		p := paramPath(path, key)
		if prop, declared := props[key]; declared {
			pm, _ := prop.(map[string]any)
			if err := validateValue(pm, v[key], p, depth+1); err != nil {
				return err
			}
			continue
		}
		switch add := additional.(type) {
		case bool:
			if !add {
				return fmt.Errorf("%s is not declared by the action; declared params: %s", describeParam(p), declaredList(props))
			}
		case map[string]any:
			if err := validateValue(add, v[key], p, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func declaredList(props map[string]any) string {
	if len(props) == 0 {
		return "none"
	}
	return strings.Join(sortedKeys(props), ", ")
}

func describeEnum(enum []any) string {
	parts := make([]string, len(enum))
	for i, e := range enum {
		parts[i] = describeValue(e)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}

func matchesType(typ string, v any) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "integer":
		_, ok := asInt64(v)
		return ok && isNumber(v)
	case "number":
		f, ok := asFloat64(v)
		return ok && !math.IsNaN(f)
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "null":
		return v == nil
	}
	return false
}

// jsonEqual compares two decoded values the way JSON sees them: numbers by
// value whatever their Go type.
func jsonEqual(a, b any) bool {
	if isNumber(a) && isNumber(b) {
		fa, _ := asFloat64(a)
		fb, _ := asFloat64(b)
		return fa == fb
	}
	switch a := a.(type) {
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], bl[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, av := range a {
			bv, ok := bm[k]
			if !ok || !jsonEqual(av, bv) {
				return false
			}
		}
		return true
	}
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if !reflect.TypeOf(a).Comparable() || !reflect.TypeOf(b).Comparable() {
		return false
	}
	return a == b
}

// deepCopy copies maps and lists so filling defaults never touches the
// caller's values or the schema's.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			out[k] = deepCopy(item)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = deepCopy(item)
		}
		return out
	}
	return v
}

// Names returns the action names, sorted.
func (a *Actions) Names() []string {
	names := make([]string, 0, len(a.Specs))
	for n := range a.Specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
