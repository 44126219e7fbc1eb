package bundle

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// A case file holds the bundle text, the charms it names and the model's
// current state; its .golden file is the plan, one change a line, or the
// error.
type planCase struct {
	Bundle string               `yaml:"bundle"`
	Charms map[string]CharmInfo `yaml:"charms"`
	Model  struct {
		Applications map[string]struct {
			Charm   string            `yaml:"charm"`
			Units   []string          `yaml:"units"`
			Options map[string]string `yaml:"options"`
		} `yaml:"applications"`
		Relations [][2]string `yaml:"relations"`
	} `yaml:"model"`
}

func TestPlanGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in testdata: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c planCase
			if err := yaml.Unmarshal(data, &c); err != nil {
				t.Fatal(err)
			}
			m := Model{Applications: map[string]ModelApp{}, Relations: c.Model.Relations}
			for n, a := range c.Model.Applications {
				m.Applications[n] = ModelApp{Charm: a.Charm, Units: a.Units, Options: a.Options}
			}
			var got string
			b, err := Parse([]byte(c.Bundle), "/bundles")
			if err == nil {
				var changes []Change
				changes, err = Plan(b, c.Charms, m)
				for _, ch := range changes {
					got += ch.String() + "\n"
				}
			}
			if err != nil {
				got = "error: " + err.Error() + "\n"
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("plan of %s:\n got:\n%s\nwant:\n%s", f, got, want)
			}
		})
	}
}
