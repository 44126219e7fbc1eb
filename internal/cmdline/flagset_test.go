package cmdline

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// deployFlags builds a flag set resembling `deploy` and returns pointers to
// every value so tests can inspect them.
type deployFlags struct {
	fs      *FlagSet
	n       *int
	config  *[]string
	to      *string
	force   *bool
	verbose *bool
	wait    *time.Duration
	format  *string
}

func newDeployFlags() deployFlags {
	fs := NewFlagSet("deploy")
	fs.SetArgs("<charm> [<application name>]")
	return deployFlags{
		fs:      fs,
		n:       fs.Int("n", "num-units", 1, "number of units to deploy"),
		config:  fs.Strings("", "config", "charm config as key=value (repeatable)"),
		to:      fs.String("", "to", "", "placement directive"),
		force:   fs.Bool("f", "force", false, "skip checks"),
		verbose: fs.Bool("v", "verbose", false, "say more"),
		wait:    fs.Duration("", "wait", time.Minute, "how long to wait"),
		format:  fs.String("o", "format", "tabular", "output format"),
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		pos     []string
		n       int
		config  []string
		to      string
		force   bool
		verbose bool
		wait    time.Duration
		format  string
	}{{
		name: "defaults", argv: nil,
		pos: nil, n: 1, wait: time.Minute, format: "tabular",
	}, {
		name: "interspersed flags and positionals",
		argv: []string{"show", "--format", "json", "u/0", "--force", "extra"},
		pos:  []string{"show", "u/0", "extra"}, n: 1, force: true, wait: time.Minute, format: "json",
	}, {
		name: "long flag with equals",
		argv: []string{"--format=yaml", "--to=0,1", "x"},
		pos:  []string{"x"}, n: 1, to: "0,1", wait: time.Minute, format: "yaml",
	}, {
		name: "equals value may contain equals and spaces",
		argv: []string{"--config=a=b c", "--config", "k="},
		pos:  nil, n: 1, config: []string{"a=b c", "k="}, wait: time.Minute, format: "tabular",
	}, {
		name: "repeated list flag accumulates in order",
		argv: []string{"--config", "k=v", "ch", "--config", "k2=v2", "--config", "k=v3"},
		pos:  []string{"ch"}, n: 1, config: []string{"k=v", "k2=v2", "k=v3"}, wait: time.Minute, format: "tabular",
	}, {
		name: "repeated scalar keeps the last",
		argv: []string{"-n", "2", "--num-units", "5"},
		n:    5, wait: time.Minute, format: "tabular",
	}, {
		name: "short flag with space",
		argv: []string{"-n", "3"}, n: 3, wait: time.Minute, format: "tabular",
	}, {
		name: "short flag with equals",
		argv: []string{"-n=4"}, n: 4, wait: time.Minute, format: "tabular",
	}, {
		name: "short flag attached",
		argv: []string{"-n7"}, n: 7, wait: time.Minute, format: "tabular",
	}, {
		name: "grouped short booleans",
		argv: []string{"-fv", "a"}, pos: []string{"a"}, n: 1, force: true, verbose: true, wait: time.Minute, format: "tabular",
	}, {
		name: "grouped booleans ending in a value flag",
		argv: []string{"-fo", "json"}, n: 1, force: true, wait: time.Minute, format: "json",
	}, {
		name: "bool with explicit true and false",
		argv: []string{"--force=true", "--verbose=false", "-v=true", "--force=0"},
		n:    1, verbose: true, wait: time.Minute, format: "tabular",
	}, {
		name: "bool does not consume the next token",
		argv: []string{"--force", "false"}, pos: []string{"false"}, n: 1, force: true, wait: time.Minute, format: "tabular",
	}, {
		name: "value is the next token even with a leading dash",
		argv: []string{"--to", "-x", "--format", "--"}, n: 1, to: "-x", wait: time.Minute, format: "--",
	}, {
		name: "double dash ends flags",
		argv: []string{"--format", "json", "--", "echo", "--force", "-n", "3", "--"},
		pos:  []string{"echo", "--force", "-n", "3", "--"}, n: 1, wait: time.Minute, format: "json",
	}, {
		name: "single dash is positional",
		argv: []string{"-", "--force"}, pos: []string{"-"}, n: 1, force: true, wait: time.Minute, format: "tabular",
	}, {
		name: "fractional durations",
		argv: []string{"--wait", "0.001s"}, n: 1, wait: time.Millisecond, format: "tabular",
	}, {
		name: "python float duration",
		argv: []string{"--wait=60.0s"}, n: 1, wait: 60 * time.Second, format: "tabular",
	}, {
		name: "compound duration",
		argv: []string{"--wait", "1h30m"}, n: 1, wait: 90 * time.Minute, format: "tabular",
	}, {
		name: "empty string value",
		argv: []string{"--to", "", "app"}, pos: []string{"app"}, n: 1, wait: time.Minute, format: "tabular",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeployFlags()
			pos, err := d.fs.Parse(tt.argv)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.argv, err)
			}
			if !reflect.DeepEqual(pos, tt.pos) {
				t.Errorf("positionals = %q, want %q", pos, tt.pos)
			}
			got := []any{*d.n, *d.config, *d.to, *d.force, *d.verbose, *d.wait, *d.format}
			want := []any{tt.n, tt.config, tt.to, tt.force, tt.verbose, tt.wait, tt.format}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("values = %v, want %v", got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"--nope"}, "option provided but not defined: --nope"},
		{[]string{"app", "--nope=1"}, "option provided but not defined: --nope"},
		{[]string{"-x"}, "option provided but not defined: -x"},
		{[]string{"-fx"}, "option provided but not defined: -x"},
		{[]string{"--n", "3"}, "option provided but not defined: --n"},
		{[]string{"--="}, "option provided but not defined: --"},
		{[]string{"--format"}, "flag needs an argument: --format"},
		{[]string{"app", "-n"}, "flag needs an argument: -n"},
		{[]string{"--config"}, "flag needs an argument: --config"},
		{[]string{"-n", "three"}, `invalid value "three" for flag -n: expected an integer`},
		{[]string{"--num-units=1.5"}, `invalid value "1.5" for flag --num-units: expected an integer`},
		{[]string{"-n="}, `invalid value "" for flag -n: expected an integer`},
		{[]string{"--wait", "5"}, `invalid value "5" for flag --wait: expected a duration`},
		{[]string{"--wait=soon"}, `invalid value "soon" for flag --wait: expected a duration`},
		{[]string{"--force=maybe"}, `invalid value "maybe" for flag --force: expected true or false`},
		{[]string{"-f=yes"}, `invalid value "yes" for flag -f: expected true or false`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			d := newDeployFlags()
			_, err := d.fs.Parse(tt.argv)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error %q", tt.argv, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error = %q, want prefix %q", tt.argv, err, tt.want)
			}
			if errors.Is(err, ErrHelp) {
				t.Errorf("Parse(%q) returned ErrHelp", tt.argv)
			}
		})
	}
}

func TestParseHelp(t *testing.T) {
	for _, argv := range [][]string{{"-h"}, {"--help"}, {"app", "--help"}, {"-fh"}} {
		d := newDeployFlags()
		if _, err := d.fs.Parse(argv); !errors.Is(err, ErrHelp) {
			t.Errorf("Parse(%q) = %v, want ErrHelp", argv, err)
		}
	}
	// After "--", -h is an ordinary positional.
	d := newDeployFlags()
	if pos, err := d.fs.Parse([]string{"--", "-h"}); err != nil || !reflect.DeepEqual(pos, []string{"-h"}) {
		t.Errorf("Parse(-- -h) = %q, %v; want [-h], nil", pos, err)
	}
	// A command that defines -h itself gets its flag, not help.
	fs := NewFlagSet("x")
	host := fs.String("h", "host", "", "host")
	if _, err := fs.Parse([]string{"-h", "example"}); err != nil || *host != "example" {
		t.Errorf("Parse with own -h: host=%q err=%v", *host, err)
	}
	if _, err := fs.Parse([]string{"--help"}); !errors.Is(err, ErrHelp) {
		t.Errorf("--help with own -h = %v, want ErrHelp", err)
	}
}

func TestStopAtFirstPositional(t *testing.T) {
	fs := NewFlagSet("ssh")
	fs.StopAtFirstPositional()
	container := fs.String("", "container", "", "container")
	noCheck := fs.Bool("", "no-host-key-checks", false, "skip checks")
	pos, err := fs.Parse([]string{"--container", "c", "--no-host-key-checks", "ubuntu/0", "-i", "KEY", "echo", "--container"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ubuntu/0", "-i", "KEY", "echo", "--container"}
	if !reflect.DeepEqual(pos, want) || *container != "c" || !*noCheck {
		t.Errorf("pos=%q container=%q noCheck=%v; want %q c true", pos, *container, *noCheck, want)
	}
}

func TestIsSet(t *testing.T) {
	d := newDeployFlags()
	if _, err := d.fs.Parse([]string{"--num-units", "1"}); err != nil {
		t.Fatal(err)
	}
	if !d.fs.IsSet("n") || !d.fs.IsSet("num-units") {
		t.Error("IsSet(n/num-units) = false after --num-units 1")
	}
	if d.fs.IsSet("force") || d.fs.IsSet("undefined") {
		t.Error("IsSet reports a flag that was not given")
	}
}

func TestVarForms(t *testing.T) {
	var f struct {
		format string
		all    bool
		n      int
		wait   time.Duration
		keys   []string
	}
	fs := NewFlagSet("x")
	fs.StringVar(&f.format, "", "format", "tabular", "")
	fs.BoolVar(&f.all, "", "all", true, "")
	fs.IntVar(&f.n, "n", "", 2, "")
	fs.DurationVar(&f.wait, "", "wait", 0, "")
	fs.StringsVar(&f.keys, "k", "", "")
	if f.format != "tabular" || !f.all || f.n != 2 {
		t.Fatalf("defaults not stored: %+v", f)
	}
	if _, err := fs.Parse([]string{"--all=false", "-n", "0", "-k", "a", "-k=b", "-kc", "--wait", "2s"}); err != nil {
		t.Fatal(err)
	}
	if f.all || f.n != 0 || f.wait != 2*time.Second || !reflect.DeepEqual(f.keys, []string{"a", "b", "c"}) {
		t.Errorf("values = %+v", f)
	}
}

func TestDefinePanics(t *testing.T) {
	tests := []struct {
		name   string
		define func(fs *FlagSet)
	}{
		{"no name", func(fs *FlagSet) { fs.Bool("", "", false, "") }},
		{"long short", func(fs *FlagSet) { fs.Bool("ab", "", false, "") }},
		{"short long", func(fs *FlagSet) { fs.Bool("", "a", false, "") }},
		{"duplicate", func(fs *FlagSet) { fs.Bool("", "force", false, ""); fs.String("", "force", "", "") }},
		{"dash in name", func(fs *FlagSet) { fs.Bool("", "--force", false, "") }},
		{"equals in name", func(fs *FlagSet) { fs.Bool("", "a=b", false, "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("define did not panic")
				}
			}()
			tt.define(NewFlagSet("x"))
		})
	}
}

func TestUsage(t *testing.T) {
	d := newDeployFlags()
	want := `Usage: troupe deploy [options] <charm> [<application name>]

Options:
--config
    charm config as key=value (repeatable)
-f, --force (= false)
    skip checks
-o, --format (= tabular)
    output format
-n, --num-units (= 1)
    number of units to deploy
--to (= )
    placement directive
-v, --verbose (= false)
    say more
--wait (= 1m0s)
    how long to wait
`
	if got := d.fs.Usage(); got != want {
		t.Errorf("Usage() =\n%s\nwant\n%s", got, want)
	}
	if got, want := NewFlagSet("version").Usage(), "Usage: troupe version [options]\n"; got != want {
		t.Errorf("Usage() = %q, want %q", got, want)
	}
}

func TestSplitCommas(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{"a,b"}, []string{"a", "b"}},
		{[]string{"a, b,,", "c"}, []string{"a", "b", "c"}},
		{[]string{"lxd:0"}, []string{"lxd:0"}},
	}
	for _, tt := range tests {
		if got := SplitCommas(tt.in...); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitCommas(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
