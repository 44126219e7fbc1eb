package cmdline

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrHelp is returned by Parse when the arguments ask for help (-h or
// --help). The caller prints Usage and exits successfully.
var ErrHelp = errors.New("cmdline: help requested")

// kind is the value type of one flag; it decides how its value is parsed.
type kind int

const (
	kindBool kind = iota
	kindString
	kindInt
	kindDuration
	kindStrings
)

// flag is one defined flag. Exactly one of the pointer fields is set,
// matching kind.
type flag struct {
	short, long string
	usage       string
	kind        kind
	def         string // default as shown in Usage

	b   *bool
	s   *string
	i   *int
	d   *time.Duration
	ss  *[]string
	set bool // set by Parse
}

// FlagSet is the set of flags of one command. Define flags first, then call
// Parse once. A FlagSet is not safe for concurrent use.
type FlagSet struct {
	name     string
	args     string
	flags    []*flag
	byName   map[string]*flag
	stopAtPF bool
}

// NewFlagSet returns an empty flag set for the command called name (used
// only in Usage).
func NewFlagSet(name string) *FlagSet {
	return &FlagSet{name: name, byName: map[string]*flag{}}
}

// SetArgs sets the positional-argument synopsis shown by Usage, for example
// "<charm> [<application name>]".
func (fs *FlagSet) SetArgs(synopsis string) { fs.args = synopsis }

// StopAtFirstPositional makes Parse treat the first positional argument and
// everything after it as positionals (Juju's `ssh` rule).
func (fs *FlagSet) StopAtFirstPositional() { fs.stopAtPF = true }

// define registers f under its names. It panics on programmer errors: no
// name, a short name longer than one character, a long name of one
// character, or a name defined twice.
func (fs *FlagSet) define(f *flag) {
	if f.short == "" && f.long == "" {
		panic("cmdline: flag defined without a name")
	}
	if len(f.short) > 1 {
		panic(fmt.Sprintf("cmdline: short flag %q must be one character", f.short))
	}
	if f.long != "" && len(f.long) < 2 {
		panic(fmt.Sprintf("cmdline: long flag %q must be at least two characters", f.long))
	}
	for _, n := range []string{f.short, f.long} {
		if n == "" {
			continue
		}
		if strings.HasPrefix(n, "-") || strings.ContainsAny(n, "= \t") {
			panic(fmt.Sprintf("cmdline: invalid flag name %q", n))
		}
		if _, dup := fs.byName[n]; dup {
			panic(fmt.Sprintf("cmdline: flag %q defined twice in %s", n, fs.name))
		}
		fs.byName[n] = f
	}
	fs.flags = append(fs.flags, f)
}

// BoolVar defines a boolean switch stored in p. Either name may be empty.
func (fs *FlagSet) BoolVar(p *bool, short, long string, def bool, usage string) {
	*p = def
	fs.define(&flag{short: short, long: long, usage: usage, kind: kindBool, b: p, def: strconv.FormatBool(def)})
}

// Bool defines a boolean switch and returns where its value is stored.
func (fs *FlagSet) Bool(short, long string, def bool, usage string) *bool {
	p := new(bool)
	fs.BoolVar(p, short, long, def, usage)
	return p
}

// StringVar defines a string flag stored in p.
func (fs *FlagSet) StringVar(p *string, short, long, def, usage string) {
	*p = def
	fs.define(&flag{short: short, long: long, usage: usage, kind: kindString, s: p, def: def})
}

// String defines a string flag and returns where its value is stored.
func (fs *FlagSet) String(short, long, def, usage string) *string {
	p := new(string)
	fs.StringVar(p, short, long, def, usage)
	return p
}

// IntVar defines a decimal integer flag stored in p.
func (fs *FlagSet) IntVar(p *int, short, long string, def int, usage string) {
	*p = def
	fs.define(&flag{short: short, long: long, usage: usage, kind: kindInt, i: p, def: strconv.Itoa(def)})
}

// Int defines a decimal integer flag and returns where its value is stored.
func (fs *FlagSet) Int(short, long string, def int, usage string) *int {
	p := new(int)
	fs.IntVar(p, short, long, def, usage)
	return p
}

// DurationVar defines a duration flag stored in p. Values use Go duration
// syntax, fractions included: "0.001s", "60.0s", "5m", "1h30m".
func (fs *FlagSet) DurationVar(p *time.Duration, short, long string, def time.Duration, usage string) {
	*p = def
	fs.define(&flag{short: short, long: long, usage: usage, kind: kindDuration, d: p, def: def.String()})
}

// Duration defines a duration flag and returns where its value is stored.
func (fs *FlagSet) Duration(short, long string, def time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	fs.DurationVar(p, short, long, def, usage)
	return p
}

// StringsVar defines a repeatable flag: each occurrence appends its value
// to *p, in command-line order. *p is reset to nil here.
func (fs *FlagSet) StringsVar(p *[]string, short, long, usage string) {
	*p = nil
	fs.define(&flag{short: short, long: long, usage: usage, kind: kindStrings, ss: p})
}

// Strings defines a repeatable flag and returns where its values are
// stored.
func (fs *FlagSet) Strings(short, long, usage string) *[]string {
	p := new([]string)
	fs.StringsVar(p, short, long, usage)
	return p
}

// IsSet reports whether the flag with the given short or long name appeared
// on the command line (as opposed to holding its default). It is how a
// command tells `-n 1` from no `-n` at all.
func (fs *FlagSet) IsSet(name string) bool {
	f, ok := fs.byName[name]
	return ok && f.set
}

// Parse parses argv (the arguments after the command verb) and returns the
// positional arguments in order. On error the flag values are partly set and
// must not be used. Parse returns ErrHelp for -h/--help, and otherwise
// errors whose text can be shown to the user as is.
func (fs *FlagSet) Parse(argv []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(argv); i++ {
		tok := argv[i]
		switch {
		case tok == "--":
			return append(pos, argv[i+1:]...), nil
		case tok == "-" || !strings.HasPrefix(tok, "-"):
			if fs.stopAtPF {
				return append(pos, argv[i:]...), nil
			}
			pos = append(pos, tok)
			continue
		}
		next := func() (string, bool) {
			if i+1 < len(argv) {
				i++
				return argv[i], true
			}
			return "", false
		}
		var err error
		if strings.HasPrefix(tok, "--") {
			err = fs.parseLong(tok[2:], next)
		} else {
			err = fs.parseShort(tok[1:], next)
		}
		if err != nil {
			return nil, err
		}
	}
	return pos, nil
}

// parseLong handles one "--name[=value]" token (without the dashes).
func (fs *FlagSet) parseLong(body string, next func() (string, bool)) error {
	name, value, hasValue := strings.Cut(body, "=")
	display := "--" + name
	f, ok := fs.byName[name]
	if !ok || len(name) < 2 {
		if name == "help" && !ok {
			return ErrHelp
		}
		return fmt.Errorf("option provided but not defined: %s", display)
	}
	return fs.apply(f, display, value, hasValue, next)
}

// parseShort handles one "-abc" / "-n3" / "-n=3" token (without the dash).
func (fs *FlagSet) parseShort(body string, next func() (string, bool)) error {
	for j := 0; j < len(body); j++ {
		name := body[j : j+1]
		display := "-" + name
		f, ok := fs.byName[name]
		if !ok || f.short != name {
			if name == "h" && !ok {
				return ErrHelp
			}
			return fmt.Errorf("option provided but not defined: %s", display)
		}
		rest := body[j+1:]
		if f.kind == kindBool {
			if strings.HasPrefix(rest, "=") {
				return fs.apply(f, display, rest[1:], true, next)
			}
			if err := fs.apply(f, display, "", false, next); err != nil {
				return err
			}
			continue
		}
		// A value flag takes the rest of the token ("-n3", "-n=3") or the
		// next token ("-n 3").
		if rest != "" {
			return fs.apply(f, display, strings.TrimPrefix(rest, "="), true, next)
		}
		return fs.apply(f, display, "", false, next)
	}
	return nil
}

// apply stores one occurrence of f. display is the flag as the user wrote
// it, for error messages.
func (fs *FlagSet) apply(f *flag, display, value string, hasValue bool, next func() (string, bool)) error {
	if f.kind == kindBool {
		v := true
		if hasValue {
			var err error
			if v, err = strconv.ParseBool(value); err != nil {
				return fmt.Errorf("invalid value %q for flag %s: expected true or false", value, display)
			}
		}
		*f.b = v
		f.set = true
		return nil
	}
	if !hasValue {
		var ok bool
		if value, ok = next(); !ok {
			return fmt.Errorf("flag needs an argument: %s", display)
		}
	}
	switch f.kind {
	case kindString:
		*f.s = value
	case kindInt:
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("invalid value %q for flag %s: expected an integer", value, display)
		}
		*f.i = n
	case kindDuration:
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("invalid value %q for flag %s: expected a duration such as 30s, 0.5s or 5m", value, display)
		}
		*f.d = d
	case kindStrings:
		*f.ss = append(*f.ss, value)
	}
	f.set = true
	return nil
}

// Usage returns the help text for the flag set: a synopsis line, then one
// entry per flag sorted by name, in gnuflag's layout:
//
//	-n, --num-units (= 1)
//	    number of units to add
func (fs *FlagSet) Usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: troupe %s [options]", fs.name)
	if fs.args != "" {
		b.WriteString(" " + fs.args)
	}
	b.WriteString("\n")
	if len(fs.flags) == 0 {
		return b.String()
	}
	flags := append([]*flag(nil), fs.flags...)
	sort.Slice(flags, func(i, j int) bool { return sortName(flags[i]) < sortName(flags[j]) })
	b.WriteString("\nOptions:\n")
	for _, f := range flags {
		var names []string
		if f.short != "" {
			names = append(names, "-"+f.short)
		}
		if f.long != "" {
			names = append(names, "--"+f.long)
		}
		b.WriteString(strings.Join(names, ", "))
		if f.kind != kindStrings {
			fmt.Fprintf(&b, " (= %s)", f.def)
		}
		b.WriteString("\n")
		if f.usage != "" {
			for _, line := range strings.Split(f.usage, "\n") {
				b.WriteString("    " + line + "\n")
			}
		}
	}
	return b.String()
}

func sortName(f *flag) string {
	if f.long != "" {
		return f.long
	}
	return f.short
}

// SplitCommas splits each value at commas and returns the non-empty,
// whitespace-trimmed parts of all of them, in order. It turns the values of
// flags such as `--to a,b`, `--reset k1,k2` or a repeated `--to a --to b`
// into one list.
func SplitCommas(values ...string) []string {
	var out []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
