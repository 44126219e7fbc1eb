package logstore

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// Record is one log line of one agent.
type Record struct {
	Seq     uint64    `json:"seq"`
	Model   string    `json:"model"`
	Entity  string    `json:"entity"` // unit-<app>-<n> or machine-<id>
	Time    time.Time `json:"time"`
	Level   Level     `json:"level"`
	Module  string    `json:"module"`
	Message string    `json:"message"`
}

// Level is a Juju log level; higher is more severe.
type Level int

// Levels, in Juju's order.
const (
	Trace Level = iota + 1
	Debug
	Info
	Warning
	Error
	Critical
)

var levelNames = []string{Trace: "TRACE", Debug: "DEBUG", Info: "INFO", Warning: "WARNING", Error: "ERROR", Critical: "CRITICAL"}

func (l Level) String() string {
	if l >= Trace && l <= Critical {
		return levelNames[l]
	}
	return "UNSPECIFIED"
}

// ParseLevel parses a level name, case-insensitively; WARN is accepted
// for WARNING.
func ParseLevel(s string) (Level, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if u == "WARN" {
		return Warning, nil
	}
	for l := Trace; l <= Critical; l++ {
		if levelNames[l] == u {
			return l, nil
		}
	}
	return 0, fmt.Errorf("unknown log level %q; use one of TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL", s)
}

// MarshalText implements encoding.TextMarshaler.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Filter selects records, as `juju debug-log`'s flags do. The zero Filter
// matches everything.
type Filter struct {
	// Include and Exclude hold entity patterns: a tag (unit-a-0,
	// machine-0), a unit name (a/0), an application name (a: all its
	// units) or a machine id (0); tags may use path.Match wildcards
	// (unit-a-*). A record matches when it matches some Include (or
	// Include is empty) and no Exclude.
	Include, Exclude []string
	// IncludeModule and ExcludeModule hold module prefixes on dot
	// boundaries: "juju.worker" matches "juju.worker.uniter".
	IncludeModule, ExcludeModule []string
	// MinLevel hides records below it; zero shows all.
	MinLevel Level
}

// Match reports whether r passes the filter.
func (f Filter) Match(r Record) bool {
	if r.Level < f.MinLevel {
		return false
	}
	if len(f.Include) > 0 && !anyEntity(f.Include, r.Entity) {
		return false
	}
	if anyEntity(f.Exclude, r.Entity) {
		return false
	}
	if len(f.IncludeModule) > 0 && !anyModule(f.IncludeModule, r.Module) {
		return false
	}
	return !anyModule(f.ExcludeModule, r.Module)
}

// MatchEntity reports whether the entity tag matches a user's entity
// reference: a tag or tag glob (unit-a-0, unit-a-*, machine-0), a unit name
// (a/0), an application name (a: every unit of a) or a machine id (0).
func MatchEntity(ref, tag string) bool {
	switch {
	case strings.HasPrefix(ref, "unit-"), strings.HasPrefix(ref, "machine-"):
		ok, err := path.Match(ref, tag)
		return ok && err == nil
	case strings.Contains(ref, "/"):
		return tag == "unit-"+strings.ReplaceAll(ref, "/", "-")
	case isDigits(ref):
		return tag == "machine-"+ref
	default:
		n, ok := strings.CutPrefix(tag, "unit-"+ref+"-")
		return ok && isDigits(n)
	}
}

func isDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

func anyEntity(refs []string, tag string) bool {
	for _, r := range refs {
		if MatchEntity(r, tag) {
			return true
		}
	}
	return false
}

func anyModule(prefixes []string, module string) bool {
	for _, p := range prefixes {
		if module == p || strings.HasPrefix(module, p+".") {
			return true
		}
	}
	return false
}
