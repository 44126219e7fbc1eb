package cmdline

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse feeds Parse an argv made by splitting the input at NUL bytes
// and checks the parser's invariants: it never panics, it is
// deterministic, positionals come back in argv order and unchanged, and
// every error is one of the documented kinds.
func FuzzParse(f *testing.F) {
	// The seed corpus lives in testdata/fuzz/FuzzParse.
	f.Fuzz(func(t *testing.T, input string) {
		var argv []string
		if input != "" {
			argv = strings.Split(input, "\x00")
		}
		d := newDeployFlags()
		pos, err := d.fs.Parse(argv)
		d2 := newDeployFlags()
		pos2, err2 := d2.fs.Parse(argv)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("Parse not deterministic: %v vs %v", err, err2)
		}
		if err != nil {
			if errors.Is(err, ErrHelp) {
				return
			}
			msg := err.Error()
			for _, prefix := range []string{"option provided but not defined: -", "flag needs an argument: -", "invalid value "} {
				if strings.HasPrefix(msg, prefix) {
					return
				}
			}
			t.Fatalf("unexpected error text %q", msg)
		}
		if len(pos) != len(pos2) {
			t.Fatalf("positionals not deterministic: %q vs %q", pos, pos2)
		}
		// Positionals are a subsequence of argv.
		j := 0
		for _, p := range pos {
			for j < len(argv) && argv[j] != p {
				j++
			}
			if j == len(argv) {
				t.Fatalf("positional %q not found in order in argv %q", p, argv)
			}
			j++
		}
		// Without "--", no positional starts with a dash except "-".
		hasDashDash := false
		for _, a := range argv {
			hasDashDash = hasDashDash || a == "--"
		}
		if !hasDashDash {
			for _, p := range pos {
				if strings.HasPrefix(p, "-") && p != "-" {
					t.Fatalf("flag-like positional %q from argv %q", p, argv)
				}
			}
		}
		if *d.n != *d2.n || len(*d.config) != len(*d2.config) {
			t.Fatalf("values not deterministic")
		}
	})
}
