package hookcmds

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// flagSet is a GNU-style flag parser matching juju/gnuflag as hook tools
// use it: flags interspersed with positionals, "--" ends flags, short
// flags as "-r 3" or "-r=3", long flags as "--relation 3" or
// "--relation=3", bool flags take an optional "=value" (true/True/1,
// false/False/0).
type flagSet struct {
	byName map[string]*flagDef
	defs   []*flagDef
}

type flagDef struct {
	names  []string // as given, without dashes
	isBool bool
	value  func() string // current value for help
	usage  string
	set    func(string) error
}

// usageError marks errors that exit with code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func newFlagSet() *flagSet {
	return &flagSet{byName: map[string]*flagDef{}}
}

func (f *flagSet) add(d *flagDef) {
	for _, n := range d.names {
		f.byName[n] = d
	}
	f.defs = append(f.defs, d)
}

func (f *flagSet) boolVar(p *bool, usage string, names ...string) {
	f.add(&flagDef{names: names, isBool: true, usage: usage,
		value: func() string { return strconv.FormatBool(*p) },
		set: func(s string) error {
			v, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("invalid boolean value %q", s)
			}
			*p = v
			return nil
		}})
}

func (f *flagSet) stringVar(p *string, usage string, names ...string) {
	f.add(&flagDef{names: names, usage: usage,
		value: func() string { return *p },
		set:   func(s string) error { *p = s; return nil }})
}

// funcVar defines a flag whose value is checked by set; shown is the
// default printed by --help.
func (f *flagSet) funcVar(set func(string) error, shown func() string, usage string, names ...string) {
	f.add(&flagDef{names: names, usage: usage, value: shown, set: set})
}

func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// parse returns the positional arguments. A "--help"/"-h" request is
// reported with errHelp.
func (f *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			pos = append(pos, arg)
			continue
		}
		var name, value string
		hasValue := false
		long := strings.HasPrefix(arg, "--")
		if long {
			name = arg[2:]
		} else {
			name = arg[1:]
		}
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		}
		if !long && len(name) > 1 {
			// Grouped short bool flags, e.g. -ab; a non-bool flag may
			// end the group with its value attached ("-r3").
			if err := f.parseShortGroup(name, value, hasValue, args, &i); err != nil {
				return nil, err
			}
			continue
		}
		if name == "help" || (name == "h" && f.byName["h"] == nil) {
			return nil, errHelp
		}
		shown := "-" + name
		if long {
			shown = "--" + name
		}
		d := f.byName[name]
		if d == nil {
			return nil, usagef("option provided but not defined: %s", shown)
		}
		if err := f.setFlag(d, shown, value, hasValue, args, &i); err != nil {
			return nil, err
		}
	}
	return pos, nil
}

func (f *flagSet) parseShortGroup(group, value string, hasValue bool, args []string, i *int) error {
	for j := 0; j < len(group); j++ {
		name := group[j : j+1]
		if name == "h" && f.byName["h"] == nil {
			return errHelp
		}
		d := f.byName[name]
		if d == nil {
			return usagef("option provided but not defined: -%s", name)
		}
		last := j == len(group)-1
		if d.isBool {
			if last {
				return f.setFlag(d, "-"+name, value, hasValue, args, i)
			}
			if err := d.set("true"); err != nil {
				return usagef("invalid value %q for flag -%s: %v", "true", name, err)
			}
			continue
		}
		rest := group[j+1:]
		if hasValue {
			rest += "=" + value
		}
		if rest == "" {
			return f.setFlag(d, "-"+name, "", false, args, i)
		}
		return f.setFlag(d, "-"+name, rest, true, args, i)
	}
	return nil
}

func (f *flagSet) setFlag(d *flagDef, shown, value string, hasValue bool, args []string, i *int) error {
	if d.isBool {
		if !hasValue {
			value = "true"
		}
	} else if !hasValue {
		if *i+1 >= len(args) {
			return usagef("option needs an argument: %s", shown)
		}
		*i++
		value = args[*i]
	}
	if err := d.set(value); err != nil {
		return usagef("invalid value %q for option %s: %v", value, shown, err)
	}
	return nil
}

// help renders gnuflag-style option help, e.g. "-s  (= data/0)".
func (f *flagSet) help() string {
	defs := append([]*flagDef(nil), f.defs...)
	sort.SliceStable(defs, func(a, b int) bool { return defs[a].names[0] < defs[b].names[0] })
	var b strings.Builder
	for _, d := range defs {
		var names []string
		for _, n := range d.names {
			names = append(names, dashed(n))
		}
		line := strings.Join(names, ", ")
		if d.isBool {
			b.WriteString(line + "  (= " + d.value() + ")\n")
		} else {
			v := d.value()
			if v == "" {
				v = `""`
			}
			b.WriteString(line + "  (= " + v + ")\n")
		}
		if d.usage != "" {
			b.WriteString("    " + d.usage + "\n")
		}
	}
	return b.String()
}
