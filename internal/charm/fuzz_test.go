package charm

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The fuzz targets check that no input panics and that what parses obeys
// the invariants callers rely on. Seeds live in testdata/fuzz/<FuzzName>/
// and in the f.Add calls; both run under plain go test.

func FuzzParseMeta(f *testing.F) {
	for _, name := range []string{"shell", "ops", "subordinate"} {
		if data, err := os.ReadFile(filepath.Join("testdata/charms", name, "metadata.yaml")); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("name: a\nprovides: {x: y}\n"))
	f.Add([]byte("name: a\nstorage: {d: {type: block, multiple: {range: 1-}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMeta(data)
		if err != nil {
			return
		}
		if !ValidCharmName(m.Name) {
			t.Fatalf("parsed invalid name %q", m.Name)
		}
		if rel, ok := m.Endpoint(ImplicitEndpoint); !ok || rel.Interface == "" {
			t.Fatalf("no juju-info endpoint")
		}
		for _, ep := range m.Endpoints() {
			if ep.Interface == "" || ep.Name == "" {
				t.Fatalf("endpoint without name or interface: %+v", ep)
			}
			if _, ok := m.Endpoint(ep.Name); !ok {
				t.Fatalf("Endpoints lists %q, Endpoint cannot find it", ep.Name)
			}
		}
		for name, st := range m.Storage {
			if st.CountMin < 0 || st.CountMax == 0 || st.CountMax < -1 || (st.CountMax > 0 && st.CountMax < st.CountMin) {
				t.Fatalf("storage %q has range %d..%d", name, st.CountMin, st.CountMax)
			}
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	if data, err := os.ReadFile("testdata/charms/shell/config.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("options: {a: {type: int, default: '7'}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		defaults := c.DefaultSettings()
		for name, v := range defaults {
			if !typedFor(c.Options[name].Type, v) {
				t.Fatalf("option %q default %#v does not match type %q", name, v, c.Options[name].Type)
			}
		}
		again, err := c.ValidateSettings(defaults)
		if err != nil {
			t.Fatalf("defaults do not validate: %v", err)
		}
		if !reflect.DeepEqual(again, defaults) || again.Hash() != defaults.Hash() {
			t.Fatalf("defaults changed when validated: %#v vs %#v", again, defaults)
		}
	})
}

func typedFor(typ string, v any) bool {
	switch v.(type) {
	case string:
		return typ == OptionString || typ == OptionSecret
	case int64:
		return typ == OptionInt
	case float64:
		return typ == OptionFloat
	case bool:
		return typ == OptionBoolean
	}
	return false
}

func FuzzParseActions(f *testing.F) {
	if data, err := os.ReadFile("testdata/charms/shell/actions.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(testActionsYAML))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseActions(data)
		if err != nil {
			return
		}
		for _, name := range a.Names() {
			if !ValidActionName(name) {
				t.Fatalf("parsed invalid action name %q", name)
			}
			// Defaults alone may not satisfy the schema; this only
			// must not panic.
			if out, err := a.ValidateParams(name, nil); err == nil && out == nil {
				t.Fatalf("ValidateParams(%q) returned nil params and no error", name)
			}
		}
	})
}

func FuzzUnpack(f *testing.F) {
	var packed bytes.Buffer
	if err := Pack("testdata/charms/shell", &packed); err == nil {
		f.Add(packed.Bytes())
	}
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dest := filepath.Join(parent, "charm")
		limits := Limits{MaxFiles: 64, MaxTotalSize: 1 << 20, MaxFileSize: 1 << 20}
		err := Unpack(bytes.NewReader(data), int64(len(data)), dest, limits)
		entries, rerr := os.ReadDir(parent)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if err != nil {
			if len(entries) != 0 {
				t.Fatalf("failed unpack (%v) left %v behind", err, entries)
			}
			return
		}
		if len(entries) != 1 || entries[0].Name() != "charm" {
			t.Fatalf("unpack wrote outside dest: %v", entries)
		}
		realDest, err := filepath.EvalSymlinks(dest)
		if err != nil {
			t.Fatal(err)
		}
		werr := filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			resolved, err := filepath.EvalSymlinks(p)
			if err != nil {
				return nil // dangling or looping, but pointing nowhere outside
			}
			if resolved != realDest && !strings.HasPrefix(resolved, realDest+string(filepath.Separator)) {
				t.Fatalf("symlink %s resolves outside dest to %s", p, resolved)
			}
			return nil
		})
		if werr != nil {
			t.Fatal(werr)
		}
	})
}
