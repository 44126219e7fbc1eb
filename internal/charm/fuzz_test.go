package charm

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets for the charm format parsers: whatever the bytes, a parser
// returns a value or an error, never panics; a parsed document survives
// the operations built on it. Corpora: testdata/fuzz/<FuzzName>/.

func FuzzParseMeta(f *testing.F) {
	f.Add([]byte("name: hello\nsummary: s\nrequires:\n  db:\n    interface: pgsql\n    limit: 1\npeers:\n  p:\n    interface: x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMeta(data)
		if err == nil && m == nil {
			t.Fatal("nil metadata without an error")
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("options:\n  port:\n    type: int\n    default: 8080\n  name:\n    type: string\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		for name := range c.Options {
			for _, v := range []string{"", "1", "-1.5", "true", "x", "99999999999999999999"} {
				_, _ = c.ParseSettingsStrings(map[string]string{name: v})
			}
		}
	})
}

func FuzzParseActions(f *testing.F) {
	f.Add([]byte("greet:\n  params:\n    who:\n      type: string\n  required: [who]\n"))
	params := []map[string]any{nil, {}, {"who": "x"}, {"n": 1.5}, {"o": map[string]any{"n": -1}}, {"l": []any{"x", 3}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseActions(data)
		if err != nil {
			return
		}
		for _, n := range append(a.Names(), "no-such-action") {
			for _, p := range params {
				_, _ = a.ValidateParams(n, p)
			}
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte("bases:\n- name: ubuntu\n  channel: \"22.04\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseManifest(data)
	})
}

// FuzzUnpack: an arbitrary archive unpacks into dest or is refused, and
// either way nothing is written outside dest (acceptance 4 of issue 10,
// for every input the fuzzer finds, including "../" entries and symlinks).
func FuzzUnpack(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dest := filepath.Join(parent, "charm")
		_ = Unpack(bytes.NewReader(data), int64(len(data)), dest, Limits{})
		entries, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "charm" {
				t.Fatalf("unpacking wrote %q outside the charm dir", e.Name())
			}
		}
	})
}
