// Package modelconfig is the schema of a model's settings (`troupe
// model-config`): the keys Troupe honours, their types, defaults and
// validation, and the typed view agents read. It is pure: no IO, no
// store, no API.
//
// A model document stores only the values a user set, as normalised
// strings (Settings); everything else comes from the defaults here, so a
// reset is a delete and a new default reaches every model that did not
// override it.
//
// Who imports it: the model guardian (validation before persisting), the
// API server (model-config output, the unit snapshot) and its tests. It
// never imports actors, workers or the controller.
package modelconfig

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Keys Troupe honours.
const (
	AutomaticallyRetryHooks  = "automatically-retry-hooks"
	UpdateStatusHookInterval = "update-status-hook-interval"
	// LostAfter is how long an agent may be disconnected from the
	// controller before status shows it lost (machine `down`); until then
	// it shows `disconnected`.
	LostAfter = "lost-after"
)

// Defaults, as Juju's.
const (
	DefaultAutomaticallyRetryHooks  = true
	DefaultUpdateStatusHookInterval = 5 * time.Minute
	DefaultLostAfter                = 2 * time.Minute
)

// Bounds of lost-after.
const (
	MinLostAfter = time.Second
	MaxLostAfter = 24 * time.Hour
)

// Bounds of update-status-hook-interval. Juju documents 1m–60m but its
// check never fires (it wraps a nil error), so Juju accepts, and the
// jubilant suite sets, values such as "10s"; Troupe accepts what Juju
// accepts in practice down to one second and refuses the rest.
const (
	MinUpdateStatusHookInterval = time.Second
	MaxUpdateStatusHookInterval = 60 * time.Minute
)

// Settings are the values a user set, by key, as normalised strings.
type Settings map[string]string

// Config is the typed, effective model configuration.
type Config struct {
	AutomaticallyRetryHooks  bool
	UpdateStatusHookInterval time.Duration
	LostAfter                time.Duration
}

type option struct {
	kind        string // "bool" or "duration"
	def         string
	description string
	min, max    time.Duration // duration bounds; zero means update-status-hook-interval's
}

var schema = map[string]option{
	AutomaticallyRetryHooks: {kind: "bool", def: strconv.FormatBool(DefaultAutomaticallyRetryHooks),
		description: "re-run a failed hook automatically, with a growing delay (5s up to 5m)"},
	UpdateStatusHookInterval: {kind: "duration", def: "5m",
		description: "how often the update-status hook runs on each unit (±20%)"},
	LostAfter: {kind: "duration", def: "2m", min: MinLostAfter, max: MaxLostAfter,
		description: "how long an agent may be out of touch with the controller (shown disconnected) before it is shown lost"},
}

var readOnly = map[string]bool{"name": true, "uuid": true, "type": true}

// Keys lists the settable keys, sorted.
func Keys() []string {
	out := make([]string, 0, len(schema))
	for k := range schema {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Normalise validates a raw value for key and returns the string to
// store.
func Normalise(key, raw string) (string, error) {
	if readOnly[key] {
		return "", fmt.Errorf("cannot set %q: it is read-only", key)
	}
	opt, ok := schema[key]
	if !ok {
		return "", fmt.Errorf("unknown model config key %q; the keys are: %s", key, strings.Join(Keys(), ", "))
	}
	switch opt.kind {
	case "bool":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return "", fmt.Errorf("%s: expected true or false, got %q", key, raw)
		}
		return strconv.FormatBool(b), nil
	default:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return "", fmt.Errorf("%s: expected a duration such as 5m or 30s, got %q", key, raw)
		}
		lo, hi, hiText := MinUpdateStatusHookInterval, MaxUpdateStatusHookInterval, "60m"
		if opt.max != 0 {
			lo, hi, hiText = opt.min, opt.max, opt.max.String()
		}
		if d < lo || d > hi {
			return "", fmt.Errorf("%s: %s is out of range; give a duration from %s to %s", key, raw, lo, hiText)
		}
		return raw, nil
	}
}

// Apply returns cur with values set and reset keys removed; cur is not
// modified. Every key is checked before anything changes, and a key both
// set and reset is refused.
func Apply(cur Settings, values map[string]string, reset []string) (Settings, error) {
	next := Settings{}
	for k, v := range cur {
		next[k] = v
	}
	for _, k := range reset {
		if _, ok := schema[k]; !ok {
			return nil, fmt.Errorf("cannot reset unknown model config key %q; the keys are: %s", k, strings.Join(Keys(), ", "))
		}
		if _, ok := values[k]; ok {
			return nil, fmt.Errorf("cannot both set and reset %q", k)
		}
		delete(next, k)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := Normalise(k, values[k])
		if err != nil {
			return nil, err
		}
		next[k] = v
	}
	return next, nil
}

// Effective is the typed configuration of s over the defaults. Values are
// validated when stored; one that no longer parses falls back to its
// default.
func Effective(s Settings) Config {
	c := Config{AutomaticallyRetryHooks: DefaultAutomaticallyRetryHooks, UpdateStatusHookInterval: DefaultUpdateStatusHookInterval,
		LostAfter: DefaultLostAfter}
	if v, ok := s[LostAfter]; ok {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			c.LostAfter = d
		}
	}
	if v, ok := s[AutomaticallyRetryHooks]; ok {
		if b, err := strconv.ParseBool(v); err == nil {
			c.AutomaticallyRetryHooks = b
		}
	}
	if v, ok := s[UpdateStatusHookInterval]; ok {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			c.UpdateStatusHookInterval = d
		}
	}
	return c
}

// Attribute is one entry of `model-config --format json`.
type Attribute struct {
	Value  any    `json:"Value" yaml:"value"`
	Source string `json:"Source" yaml:"source"`
}

// Describe is the model-config document: every key with its typed value
// and its source ("default" or "model"), plus the read-only name, uuid
// and type Juju also lists.
func Describe(s Settings, name, uuid string) map[string]Attribute {
	out := map[string]Attribute{
		"name": {Value: name, Source: "model"},
		"uuid": {Value: uuid, Source: "model"},
		"type": {Value: "iaas", Source: "model"},
	}
	for k, opt := range schema {
		raw, src := opt.def, "default"
		if v, ok := s[k]; ok {
			raw, src = v, "model"
		}
		var v any = raw
		if opt.kind == "bool" {
			v = raw == "true"
		}
		out[k] = Attribute{Value: v, Source: src}
	}
	return out
}
