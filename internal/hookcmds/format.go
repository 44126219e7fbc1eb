package hookcmds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Output formats (§4.1). Values passed to the formatters are built from
// nil, string, bool, int, int64, float64, []string, []any and
// map[string]any / map[string]string only.
const (
	formatSmart = "smart"
	formatJSON  = "json"
	formatYAML  = "yaml"
)

// format renders v; the caller appends a newline when the result is
// non-empty (as juju/cmd does).
func format(name string, v any) ([]byte, error) {
	switch name {
	case formatJSON:
		return formatJSONValue(v)
	case formatYAML:
		if v == nil {
			return nil, nil
		}
		return formatYAMLValue(v), nil
	default:
		return formatSmartValue(v)
	}
}

func formatJSONValue(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot format output as json: %w", err)
	}
	return data, nil
}

func formatSmartValue(v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(v), nil
	case []string:
		return []byte(strings.Join(v, "\n")), nil
	case bool:
		if v {
			return []byte("True"), nil
		}
		return []byte("False"), nil
	}
	return formatYAMLValue(v), nil
}

// formatYAMLValue emits YAML the way gopkg.in/yaml.v2 (used by Juju's
// output) lays it out: sorted keys, two-space indentation, sequences in a
// mapping not indented, no trailing newline.
func formatYAMLValue(v any) []byte {
	var b bytes.Buffer
	writeYAML(&b, v, 0, false)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// writeYAML writes v as a block node at indent. inline says the cursor is
// after "key:" or "- " already.
func writeYAML(b *bytes.Buffer, v any, indent int, inline bool) {
	pad := strings.Repeat(" ", indent)
	switch val := normalize(v).(type) {
	case map[string]any:
		if len(val) == 0 {
			if inline {
				b.WriteString(" {}\n")
			} else {
				b.WriteString("{}\n")
			}
			return
		}
		keys := make([]string, 0, len(val))
		for k := range val {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if inline {
			b.WriteString("\n")
		}
		for _, k := range keys {
			b.WriteString(pad + yamlScalar(k, indent) + ":")
			child := normalize(val[k])
			switch c := child.(type) {
			case map[string]any:
				if len(c) == 0 {
					b.WriteString(" {}\n")
				} else {
					writeYAML(b, c, indent+2, true)
				}
			case []any:
				if len(c) == 0 {
					b.WriteString(" []\n")
				} else {
					b.WriteString("\n")
					writeYAML(b, c, indent, false)
				}
			default:
				b.WriteString(" " + yamlScalar(c, indent+2) + "\n")
			}
		}
	case []any:
		if len(val) == 0 {
			if inline {
				b.WriteString(" []\n")
			} else {
				b.WriteString("[]\n")
			}
			return
		}
		if inline {
			b.WriteString("\n")
		}
		for _, item := range val {
			b.WriteString(pad + "-")
			switch c := normalize(item).(type) {
			case map[string]any:
				if len(c) == 0 {
					b.WriteString(" {}\n")
					continue
				}
				// First key on the dash line, the rest aligned under it.
				var sub bytes.Buffer
				writeYAML(&sub, c, indent+2, false)
				b.WriteString(" " + strings.TrimPrefix(sub.String(), pad+"  "))
			case []any:
				if len(c) == 0 {
					b.WriteString(" []\n")
					continue
				}
				var sub bytes.Buffer
				writeYAML(&sub, c, indent+2, false)
				b.WriteString(" " + strings.TrimPrefix(sub.String(), pad+"  "))
			default:
				b.WriteString(" " + yamlScalar(c, indent+2) + "\n")
			}
		}
	default:
		if inline {
			b.WriteString(" ")
		} else {
			b.WriteString(pad)
		}
		b.WriteString(yamlScalar(val, indent) + "\n")
	}
}

// normalize turns typed maps and slices into map[string]any and []any.
func normalize(v any) any {
	switch val := v.(type) {
	case nil, string, bool, int, int64, float64, map[string]any, []any:
		return v
	case map[string]string:
		m := make(map[string]any, len(val))
		for k, x := range val {
			m[k] = x
		}
		return m
	case []string:
		l := make([]any, len(val))
		for i, x := range val {
			l[i] = x
		}
		return l
	case []map[string]any:
		l := make([]any, len(val))
		for i, x := range val {
			l[i] = x
		}
		return l
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		m := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			m[fmt.Sprint(iter.Key().Interface())] = iter.Value().Interface()
		}
		return m
	case reflect.Slice:
		l := make([]any, rv.Len())
		for i := range l {
			l[i] = rv.Index(i).Interface()
		}
		return l
	}
	return v
}

// yamlScalar renders one scalar; strings are quoted only when YAML would
// read them as something else.
func yamlScalar(v any, indent int) string {
	switch val := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(val)
	case int:
		return strconv.Itoa(val)
	case int64:
		return strconv.FormatInt(val, 10)
	case float64:
		data, _ := yaml.Marshal(val)
		return strings.TrimSpace(string(data))
	case string:
		if strings.Contains(val, "\n") && utf8.ValidString(val) && literalOK(val) {
			pad := strings.Repeat(" ", indent)
			head := "|-"
			body := val
			if strings.HasSuffix(val, "\n") {
				head = "|"
				body = strings.TrimSuffix(val, "\n")
			}
			lines := strings.Split(body, "\n")
			for i, l := range lines {
				if l != "" {
					lines[i] = pad + l
				}
			}
			if indent == 0 {
				for i, l := range lines {
					if l != "" {
						lines[i] = "  " + l
					}
				}
			}
			return head + "\n" + strings.Join(lines, "\n")
		}
		data, err := yaml.Marshal(val)
		if err != nil {
			return strconv.Quote(val)
		}
		s := strings.TrimSuffix(string(data), "\n")
		if strings.Contains(s, "\n") {
			return strconv.Quote(val)
		}
		if yaml11Special(val) {
			return `"` + val + `"`
		}
		return s
	}
	return fmt.Sprint(v)
}

// literalOK says a multi-line string survives a literal block.
func literalOK(s string) bool {
	if strings.HasPrefix(s, " ") || strings.HasSuffix(s, "\n\n") {
		return false
	}
	for _, l := range strings.Split(s, "\n") {
		if strings.HasSuffix(l, " ") || strings.ContainsAny(l, "\t\r") {
			return false
		}
	}
	return true
}

// yaml11Special lists words YAML 1.1 readers (yaml.v2, PyYAML) take as
// booleans, which yaml.v3 leaves unquoted.
func yaml11Special(s string) bool {
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off":
		return true
	}
	return false
}
