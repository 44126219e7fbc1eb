package charm

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadDirShell(t *testing.T) {
	c, err := ReadDir("testdata/charms/shell")
	if err != nil {
		t.Fatal(err)
	}
	if c.Meta.Name != "shell" || c.Version != "1.2.3" || c.Revision != 7 || c.Manifest != nil || c.Format() != FormatV1 {
		t.Errorf("charm = %+v (meta %+v)", c, c.Meta)
	}
	if !reflect.DeepEqual(c.Meta.Series, []string{"jammy"}) || c.Meta.Storage["data"].CountMax != 3 || c.Meta.Storage["data"].MinimumSize != 1024 {
		t.Errorf("meta = %+v", c.Meta)
	}
	if c.Config.Options["port"].Default != int64(8080) || c.Config.Options["untyped"].Type != OptionString {
		t.Errorf("config = %+v", c.Config.Options)
	}
	if _, ok := c.Actions.Specs["backup"]; !ok {
		t.Errorf("actions = %+v", c.Actions.Specs)
	}
}

func TestReadDirOps(t *testing.T) {
	c, err := ReadDir("testdata/charms/ops")
	if err != nil {
		t.Fatal(err)
	}
	if c.Meta.Format != FormatV2 || c.Format() != FormatV2 || c.Meta.CharmUser != "non-root" {
		t.Errorf("meta = %+v", c.Meta)
	}
	want := []Base{{Name: "ubuntu", Channel: "24.04", Architectures: []string{"amd64", "arm64"}}, {Name: "ubuntu", Channel: "20.10"}}
	if c.Manifest == nil || !reflect.DeepEqual(c.Manifest.Bases, want) {
		t.Errorf("manifest = %+v", c.Manifest)
	}
	if c.Config == nil || len(c.Config.Options) != 0 || c.Actions == nil || len(c.Actions.Specs) != 0 {
		t.Errorf("config/actions = %+v %+v, want empty non-nil", c.Config, c.Actions)
	}
}

func TestReadDirUnified(t *testing.T) {
	c, err := ReadDir("testdata/charms/unified")
	if err != nil {
		t.Fatal(err)
	}
	if c.Meta.Name != "unified" || c.Meta.Requires["ingress"].Limit != 1 || c.Meta.Summary != "Everything in charmcraft.yaml." {
		t.Errorf("meta = %+v", c.Meta)
	}
	if c.Config.Options["log-level"].Default != "info" {
		t.Errorf("config = %+v", c.Config)
	}
	if c.Actions.Specs["restart"].Description != "Restart the service." {
		t.Errorf("actions = %+v", c.Actions)
	}
	want := []Base{{Name: "ubuntu", Channel: "22.04", Architectures: []string{"amd64", "arm64"}}}
	if c.Manifest == nil || !reflect.DeepEqual(c.Manifest.Bases, want) {
		t.Errorf("manifest = %+v", c.Manifest)
	}
}

func TestReadDirSubordinateLegacyBases(t *testing.T) {
	c, err := ReadDir("testdata/charms/subordinate")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Meta.Subordinate || c.Manifest == nil || len(c.Manifest.Bases) != 2 || c.Manifest.Bases[1].Channel != "24.04" {
		t.Errorf("charm = %+v, manifest %+v", c.Meta, c.Manifest)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadDirErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"empty dir", nil, `has no metadata.yaml`},
		{"bad metadata", map[string]string{"metadata.yaml": "name: A"}, `metadata.yaml: invalid metadata: invalid charm name "A"`},
		{"bad config", map[string]string{"metadata.yaml": "name: a", "config.yaml": "options: {x: {type: y}}"}, `config.yaml: invalid config: x has unknown type "y"`},
		{"bad actions", map[string]string{"metadata.yaml": "name: a", "actions.yaml": "X: {}"}, `actions.yaml: invalid actions: invalid action name "X"`},
		{"bad manifest", map[string]string{"metadata.yaml": "name: a", "manifest.yaml": "bases: [{name: ubuntu}]"}, `manifest.yaml: invalid manifest: bases[0]: no channel`},
		{"bad revision", map[string]string{"metadata.yaml": "name: a", "revision": "seven"}, `revision: "seven" is not a revision number`},
		{"charmcraft without name", map[string]string{"charmcraft.yaml": "type: charm\nbases: []"}, `charmcraft.yaml has no "name"`},
		{"bad charmcraft", map[string]string{"charmcraft.yaml": "name: a\nsubordinate: true"}, `charmcraft.yaml: metadata: subordinate charm "a" lacks`},
		{"bad charmcraft bases with metadata", map[string]string{"metadata.yaml": "name: a", "charmcraft.yaml": "base: nope"}, `charmcraft.yaml: invalid base "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			_, err := ReadDir(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "cannot read charm dir ") && !strings.HasPrefix(err.Error(), "charm dir ") {
				t.Errorf("error %q does not name the charm dir", err)
			}
		})
	}
	missing := filepath.Join(t.TempDir(), "x")
	if _, err := ReadDir(missing); err == nil {
		t.Error("ReadDir of a missing dir succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	writeFiles(t, filepath.Dir(f), map[string]string{"file": ""})
	if _, err := ReadDir(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("ReadDir of a file: %v", err)
	}
}

func TestReadDirNoMetadataMessage(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadDir(dir)
	want := `charm dir "` + dir + `" has no metadata.yaml: point at a charm directory, or run "charmcraft pack" and deploy the .charm file`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v", err)
	}
}

func TestReadDirMetadataWinsOverCharmcraft(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"metadata.yaml":   "name: packed",
		"config.yaml":     "options: {a: {type: int, default: 1}}",
		"charmcraft.yaml": "name: source\nconfig: {options: {b: {}}}\nbase: ubuntu@24.04\n",
		"version":         "",
	})
	c, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Meta.Name != "packed" || len(c.Config.Options) != 1 || c.Config.Options["a"].Default != int64(1) || c.Version != "" {
		t.Errorf("charm = %+v config %+v", c.Meta, c.Config)
	}
	if c.Manifest == nil || c.Manifest.Bases[0].String() != "ubuntu@24.04" {
		t.Errorf("manifest = %+v, want bases from charmcraft.yaml", c.Manifest)
	}
}
