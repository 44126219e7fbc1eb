package charm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The option types of config.yaml.
const (
	OptionString  = "string"
	OptionInt     = "int"
	OptionFloat   = "float"
	OptionBoolean = "boolean"
	OptionSecret  = "secret" // the value is a secret URI
)

// Config is the parsed config.yaml.
type Config struct {
	Options map[string]Option // never nil after parsing
}

// Option is one charm config option.
type Option struct {
	// Type is one of the Option* constants; "string" when not declared.
	Type        string
	Description string
	// Default is typed by Type: string (string, secret), int64 (int),
	// float64 (float), bool (boolean), or nil when there is no default.
	Default any
}

// Settings maps option names to typed values (string, int64, float64,
// bool). A nil value means "unset": go back to the default.
type Settings map[string]any

// ParseConfig parses the content of a config.yaml file. Empty content
// gives a config with no options.
func ParseConfig(data []byte) (*Config, error) {
	raw, err := decodeYAML(data)
	if err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	c, err := parseConfigTree(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	return c, nil
}

func parseConfigTree(raw any) (*Config, error) {
	c := &Config{Options: map[string]Option{}}
	if raw == nil {
		return c, nil
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected a mapping with \"options\", got %s", typeName(raw))
	}
	opts, err := fields{m: top}.mapping("options")
	if err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(opts) {
		path := fmt.Sprintf("option %q", name)
		if name == "" {
			return nil, fmt.Errorf("options: empty option name")
		}
		spec, ok := opts[name].(map[string]any)
		if !ok && opts[name] != nil {
			return nil, fmt.Errorf("%s: expected a mapping with type, description and default, got %s", path, typeName(opts[name]))
		}
		of := fields{m: spec, path: path}
		var opt Option
		if opt.Type, err = of.str("type"); err != nil {
			return nil, err
		}
		if opt.Type == "" {
			opt.Type = OptionString
		}
		if !validOptionType(opt.Type) {
			return nil, fmt.Errorf("%s has unknown type %q: use one of string, int, float, boolean, secret", name, opt.Type)
		}
		if opt.Description, err = of.str("description"); err != nil {
			return nil, err
		}
		if def, ok := spec["default"]; ok && def != nil {
			// A non-string option declared with default "" has no
			// default; charms in the wild use that spelling.
			if s, isStr := def.(string); isStr && s == "" && opt.Type != OptionString && opt.Type != OptionSecret {
				def = nil
			}
			if def != nil {
				v, err := coerceOption(opt.Type, def)
				if err != nil {
					return nil, fmt.Errorf("option %q default: %w", name, err)
				}
				opt.Default = v
			}
		}
		c.Options[name] = opt
	}
	return c, nil
}

func validOptionType(t string) bool {
	switch t {
	case OptionString, OptionInt, OptionFloat, OptionBoolean, OptionSecret:
		return true
	}
	return false
}

// coerceOption converts a decoded YAML or JSON value to the Go type of an
// option type, accepting the string spelling of numbers and booleans.
func coerceOption(typ string, v any) (any, error) {
	switch typ {
	case OptionString, OptionSecret:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case OptionInt:
		if i, ok := asInt64(v); ok {
			return i, nil
		}
		if s, ok := v.(string); ok {
			if i, ok := parseInt(s); ok {
				return i, nil
			}
		}
	case OptionFloat:
		if f, ok := asFloat64(v); ok {
			return checkFinite(f)
		}
		if s, ok := v.(string); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return checkFinite(f)
			}
		}
	case OptionBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if s, ok := v.(string); ok {
			if b, ok := parseBool(s); ok {
				return b, nil
			}
		}
	}
	return nil, fmt.Errorf("expected %s, got %s", describeType(typ), describeValue(v))
}

// checkFinite refuses NaN and infinities, which JSON cannot carry.
func checkFinite(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("expected a finite number, got %v", f)
	}
	return f, nil
}

func describeType(typ string) string {
	switch typ {
	case OptionInt:
		return "an integer (int)"
	case OptionFloat:
		return "a number (float)"
	case OptionBoolean:
		return "true or false (boolean)"
	case OptionSecret:
		return "a secret URI (secret)"
	}
	return "a string"
}

func describeValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case nil:
		return "null"
	case map[string]any, []any:
		return "a " + typeName(v)
	}
	return fmt.Sprintf("%s %v", typeName(v), v)
}

// DefaultSettings returns the defaults of the options that have one.
func (c *Config) DefaultSettings() Settings {
	out := Settings{}
	for name, opt := range c.Options {
		if opt.Default != nil {
			out[name] = opt.Default
		}
	}
	return out
}

// EffectiveSettings merges user values over the defaults; a nil user
// value unsets the option.
func (c *Config) EffectiveSettings(user map[string]any) Settings {
	out := c.DefaultSettings()
	for k, v := range user {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// ParseSettingsStrings converts "key=value" strings from the command line
// into typed settings. An empty value for a non-string option means unset
// (nil); for a string option it is the empty string.
func (c *Config) ParseSettingsStrings(values map[string]string) (Settings, error) {
	out := Settings{}
	for _, name := range sortedKeys(values) {
		opt, err := c.option(name)
		if err != nil {
			return nil, err
		}
		s := values[name]
		if s == "" && opt.Type != OptionString && opt.Type != OptionSecret {
			out[name] = nil
			continue
		}
		v, err := coerceOption(opt.Type, s)
		if err != nil {
			return nil, fmt.Errorf("option %q: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

// ValidateSettings checks values that came from YAML or JSON (a config
// file or the API) and returns them typed. Native YAML types and their
// string spellings are both accepted; nil means unset.
func (c *Config) ValidateSettings(values map[string]any) (Settings, error) {
	out := Settings{}
	for _, name := range sortedKeys(values) {
		opt, err := c.option(name)
		if err != nil {
			return nil, err
		}
		v := values[name]
		if v == nil {
			out[name] = nil
			continue
		}
		typed, err := coerceOption(opt.Type, v)
		if err != nil {
			return nil, fmt.Errorf("option %q: %w", name, err)
		}
		out[name] = typed
	}
	return out, nil
}

func (c *Config) option(name string) (Option, error) {
	opt, ok := c.Options[name]
	if !ok {
		return Option{}, fmt.Errorf("unknown option %q: run \"troupe config <app>\" to list the charm's options", name)
	}
	return opt, nil
}

// Hash returns a stable digest of the settings: the hex sha256 of their
// canonical JSON (keys sorted). Equal settings hash equal whatever the
// map order; nil and empty settings hash the same. The uniter compares
// hashes to decide whether config-changed must run.
func (s Settings) Hash() string {
	if s == nil {
		s = Settings{}
	}
	data, err := json.Marshal(map[string]any(s))
	if err != nil {
		// Only values the typed paths never produce (NaN, channels)
		// fail to marshal; hash their printed form instead so the
		// digest stays stable.
		data = fmt.Appendf(nil, "%#v", canonicalPrint(s))
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func canonicalPrint(s Settings) []string {
	var out []string
	for _, k := range sortedKeys(s) {
		out = append(out, fmt.Sprintf("%q=%#v", k, s[k]))
	}
	return out
}
