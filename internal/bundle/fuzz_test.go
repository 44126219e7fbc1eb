package bundle

import "testing"

// FuzzParse: any input parses or fails with an error, never a panic, and
// a parsed bundle plans against an empty model without panicking.
func FuzzParse(f *testing.F) {
	f.Add([]byte("applications:\n  a:\n    charm: ./a\n    num_units: 2\n    to: [\"0\", \"b/0\"]\nmachines:\n  \"0\": {}\nrelations:\n  - [a, b]\n"))
	f.Add([]byte("services:\n  a: {charm: /x.charm, scale: 1, options: {k: 1.5, b: true}}\n"))
	f.Add([]byte("applications: {a: {charm: ./a, to: [new]}}\nrelations: [[a]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data, "/d")
		if err != nil {
			return
		}
		charms := map[string]CharmInfo{}
		for n := range b.Applications {
			charms[n] = CharmInfo{Name: n}
		}
		_, _ = Plan(b, charms, Model{})
	})
}
