package charm

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxYAMLNodes bounds how many values one document may expand to. Aliases
// are expanded while converting, so without a budget a few lines of
// "billion laughs" YAML would allocate without end.
const maxYAMLNodes = 1 << 20

// maxYAMLDepth bounds nesting so a hostile document cannot exhaust the stack.
const maxYAMLDepth = 200

// decodeYAML parses one YAML document into a plain tree of map[string]any,
// []any, string, int64, float64, bool and nil. Timestamps and other tagged
// scalars stay strings (their source text), unlike yaml.v3's own decoding
// into any. An empty document decodes to nil.
func decodeYAML(data []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if doc.Kind == 0 {
		return nil, nil
	}
	c := converter{budget: maxYAMLNodes}
	return c.convert(&doc, 0)
}

type converter struct {
	budget int
}

var errYAMLTooBig = errors.New("invalid YAML: document expands to too many values (check for alias loops)")

func (c *converter) convert(n *yaml.Node, depth int) (any, error) {
	c.budget--
	if c.budget < 0 {
		return nil, errYAMLTooBig
	}
	if depth > maxYAMLDepth {
		return nil, fmt.Errorf("invalid YAML: nesting deeper than %d levels", maxYAMLDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.convert(n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("invalid YAML: line %d: unresolved alias", n.Line)
		}
		return c.convert(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := c.convert(item, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return c.mapping(n, depth)
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("invalid YAML: line %d: unsupported node", n.Line)
}

func (c *converter) mapping(n *yaml.Node, depth int) (any, error) {
	out := make(map[string]any, len(n.Content)/2)
	var merged []map[string]any
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			m, err := c.convert(v, depth+1)
			if err != nil {
				return nil, err
			}
			switch m := m.(type) {
			case map[string]any:
				merged = append(merged, m)
			case []any:
				for _, item := range m {
					im, ok := item.(map[string]any)
					if !ok {
						return nil, fmt.Errorf("invalid YAML: line %d: merge key needs a mapping", k.Line)
					}
					merged = append(merged, im)
				}
			default:
				return nil, fmt.Errorf("invalid YAML: line %d: merge key needs a mapping", k.Line)
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("invalid YAML: line %d: mapping keys must be plain values", k.Line)
		}
		key := k.Value
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("invalid YAML: line %d: key %q appears twice", k.Line, key)
		}
		val, err := c.convert(v, depth+1)
		if err != nil {
			return nil, err
		}
		out[key] = val
	}
	for _, m := range merged {
		for k, v := range m {
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
	}
	return out, nil
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("invalid YAML: line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			// Out of int64 range: keep it as a float rather than fail
			// the whole document; typed checks report it later.
			var f float64
			if ferr := n.Decode(&f); ferr != nil {
				return nil, fmt.Errorf("invalid YAML: line %d: integer %s out of range", n.Line, n.Value)
			}
			return f, nil
		}
		return i, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("invalid YAML: line %d: %w", n.Line, err)
		}
		return f, nil
	}
	return n.Value, nil
}

// typeName names the type of a decoded value for error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "integer"
	case float32, float64:
		return "number"
	case map[string]any:
		return "mapping"
	case []any:
		return "list"
	}
	return fmt.Sprintf("%T", v)
}

// fields reads typed values out of one decoded mapping; path prefixes every
// error ("provides.db").
type fields struct {
	m    map[string]any
	path string
}

func (f fields) at(key string) string {
	if f.path == "" {
		return key
	}
	return f.path + "." + key
}

func (f fields) str(key string) (string, error) {
	v, ok := f.m[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: expected a string, got %s", f.at(key), typeName(v))
	}
	return s, nil
}

func (f fields) boolean(key string) (bool, error) {
	v, ok := f.m[key]
	if !ok || v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s: expected true or false, got %s", f.at(key), typeName(v))
	}
	return b, nil
}

// integer reads an optional integer; present reports whether it was set.
func (f fields) integer(key string) (n int64, present bool, err error) {
	v, ok := f.m[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	i, ok := asInt64(v)
	if !ok {
		return 0, true, fmt.Errorf("%s: expected an integer, got %s", f.at(key), typeName(v))
	}
	return i, true, nil
}

func (f fields) mapping(key string) (map[string]any, error) {
	v, ok := f.m[key]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected a mapping, got %s", f.at(key), typeName(v))
	}
	return m, nil
}

func (f fields) list(key string) ([]any, error) {
	v, ok := f.m[key]
	if !ok || v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected a list, got %s", f.at(key), typeName(v))
	}
	return l, nil
}

func (f fields) strings(key string) ([]string, error) {
	l, err := f.list(key)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, item := range l {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: expected a string, got %s", f.at(key), i, typeName(item))
		}
		out = append(out, s)
	}
	return out, nil
}

// asInt64 accepts any Go integer, and a float with no fractional part.
func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		if uint64(n) > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case float32:
		return floatToInt(float64(n))
	case float64:
		return floatToInt(n)
	}
	return 0, false
}

func floatToInt(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// asFloat64 accepts any Go integer or float.
func asFloat64(v any) (float64, bool) {
	switch n := v.(type) {
	case float32:
		return float64(n), true
	case float64:
		return n, true
	}
	if i, ok := asInt64(v); ok {
		return float64(i), true
	}
	return 0, false
}

// parseBool accepts the boolean spellings of YAML 1.1 as well as Go's, so
// "yes" and "on" mean what a charm author from the yaml.v2 era meant.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "1", "yes", "y", "on":
		return true, true
	case "false", "f", "0", "no", "n", "off":
		return false, true
	}
	return false, false
}

func parseInt(s string) (int64, bool) {
	i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return i, err == nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
