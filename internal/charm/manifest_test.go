package charm

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseManifest(t *testing.T) {
	m, err := ParseManifest([]byte("bases:\n  - {name: ubuntu, channel: 20.10, architectures: [amd64]}\n  - {name: ubuntu, channel: \"24.04/stable\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Base{{Name: "ubuntu", Channel: "20.10", Architectures: []string{"amd64"}}, {Name: "ubuntu", Channel: "24.04/stable"}}
	if !reflect.DeepEqual(m.Bases, want) {
		t.Errorf("bases = %+v, want %+v", m.Bases, want)
	}
	if got := m.Bases[0].String(); got != "ubuntu@20.10" {
		t.Errorf("String = %q", got)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"bases: [{channel: '22.04'}]", `bases[0]: no name`},
		{"bases: [{name: ubuntu}]", `bases[0]: no channel`},
		{"bases: [{name: ubuntu, channel: '1', architectures: ['']}]", `bases[0].architectures[0]: empty architecture`},
		{"bases: x", "invalid manifest"},
		{"bases: [{name: ubuntu}]\nbases: []", `key "bases" appears twice`},
	} {
		if _, err := ParseManifest([]byte(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseManifest(%q) error = %v, want %q", tt.yaml, err, tt.want)
		}
	}
}

func TestParseBase(t *testing.T) {
	if b, err := ParseBase("ubuntu@24.04"); err != nil || !reflect.DeepEqual(b, Base{Name: "ubuntu", Channel: "24.04"}) {
		t.Errorf("ParseBase = %+v, %v", b, err)
	}
	for _, s := range []string{"ubuntu", "@24.04", "ubuntu@", ""} {
		if _, err := ParseBase(s); err == nil {
			t.Errorf("ParseBase(%q) succeeded", s)
		}
	}
}

func TestCharmcraftManifest(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []Base
	}{
		{"none", "name: a", nil},
		{"base only", "base: ubuntu@22.04", []Base{{Name: "ubuntu", Channel: "22.04"}}},
		{"platform arches", "base: ubuntu@22.04\nplatforms:\n  arm64:\n  amd64:\n",
			[]Base{{Name: "ubuntu", Channel: "22.04", Architectures: []string{"amd64", "arm64"}}}},
		{"multi-base shorthand", "platforms:\n  ubuntu@22.04:amd64:\n  ubuntu@24.04:amd64:\n",
			[]Base{{Name: "ubuntu", Channel: "22.04", Architectures: []string{"amd64"}}, {Name: "ubuntu", Channel: "24.04", Architectures: []string{"amd64"}}}},
		{"build-for", "base: ubuntu@24.04\nplatforms:\n  x:\n    build-on: [amd64]\n    build-for: [riscv64]\n  y:\n    build-for: ubuntu@22.04:s390x\n",
			[]Base{{Name: "ubuntu", Channel: "24.04", Architectures: []string{"riscv64"}}, {Name: "ubuntu", Channel: "22.04", Architectures: []string{"s390x"}}}},
		{"bases run-on", "bases:\n  - build-on: [{name: ubuntu, channel: '22.04'}]\n    run-on: [{name: ubuntu, channel: '22.04', architectures: [amd64]}, {name: ubuntu, channel: '20.04'}]\n",
			[]Base{{Name: "ubuntu", Channel: "22.04", Architectures: []string{"amd64"}}, {Name: "ubuntu", Channel: "20.04"}}},
		{"bases build-on only", "bases:\n  - build-on: [{name: ubuntu, channel: 22.04}]\n",
			[]Base{{Name: "ubuntu", Channel: "22.04"}}},
		{"bases short", "bases:\n  - name: ubuntu\n    channel: 20.10\n",
			[]Base{{Name: "ubuntu", Channel: "20.10"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := charmcraftManifest([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			var got []Base
			if m != nil {
				got = m.Bases
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("bases = %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, tt := range []struct{ yaml, want string }{
		{"base: ubuntu@22.04\nbases: [{name: ubuntu, channel: '22.04'}]", `"base" and "bases" cannot both be set`},
		{"platforms:\n  amd64:\n", `platforms: "amd64" names no base`},
		{"base: ubuntu", `invalid base "ubuntu"`},
		{"bases: [{run-on: [{name: ubuntu}]}]", `bases[0].run-on[0]: no channel`},
	} {
		if _, err := charmcraftManifest([]byte(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("charmcraftManifest(%q) error = %v, want %q", tt.yaml, err, tt.want)
		}
	}
}

func TestParseCharmcraftErrors(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"type: bundle\nname: a", `type "bundle" is not a charm`},
		{"name: A", `metadata: invalid charm name "A"`},
		{"name: a\nconfig:\n  options:\n    x: {type: nope}", `config: x has unknown type "nope"`},
		{"name: a\nactions:\n  Bad: {}", `actions: invalid action name "Bad"`},
		{"[1]", "expected a mapping at the top level"},
	} {
		if _, err := parseCharmcraft([]byte(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseCharmcraft(%q) error = %v, want %q", tt.yaml, err, tt.want)
		}
	}
}
