package charm

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Manifest is the parsed manifest.yaml: the bases a packed charm runs on.
type Manifest struct {
	Bases []Base
}

// Base is one operating system a charm supports.
type Base struct {
	Name          string // "ubuntu"
	Channel       string // "22.04" or "22.04/stable", as written
	Architectures []string
}

// String renders the base as charmcraft spells it: "ubuntu@22.04".
func (b Base) String() string {
	return b.Name + "@" + b.Channel
}

// ParseBase reads "name@channel", as in "ubuntu@24.04".
func ParseBase(s string) (Base, error) {
	name, channel, ok := strings.Cut(s, "@")
	if !ok || name == "" || channel == "" {
		return Base{}, fmt.Errorf("invalid base %q: use name@channel, for example ubuntu@24.04", s)
	}
	return Base{Name: name, Channel: channel}, nil
}

// rawBase is a base as written in manifest.yaml or charmcraft.yaml. It is
// decoded by yaml.v3 into strings so that "channel: 20.10" keeps its text
// rather than becoming the float 20.1.
type rawBase struct {
	Name          string   `yaml:"name"`
	Channel       string   `yaml:"channel"`
	Architectures []string `yaml:"architectures"`
}

func (r rawBase) base(path string) (Base, error) {
	if r.Name == "" {
		return Base{}, fmt.Errorf("%s: no name: add \"name: ubuntu\"", path)
	}
	if r.Channel == "" {
		return Base{}, fmt.Errorf("%s: no channel: add a channel such as \"22.04\"", path)
	}
	for i, a := range r.Architectures {
		if a == "" {
			return Base{}, fmt.Errorf("%s.architectures[%d]: empty architecture", path, i)
		}
	}
	return Base{Name: r.Name, Channel: r.Channel, Architectures: r.Architectures}, nil
}

// ParseManifest parses the content of a manifest.yaml file. It does not
// compare the bases with the host: a charm for ubuntu@24.04 reads fine
// anywhere, and placement decides where it runs.
func ParseManifest(data []byte) (*Manifest, error) {
	// The generic decoder runs first for its duplicate-key and alias
	// checks; the typed decode below keeps scalar text.
	if _, err := decodeYAML(data); err != nil {
		return nil, fmt.Errorf("invalid manifest: %w", err)
	}
	var raw struct {
		Bases []rawBase `yaml:"bases"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("invalid manifest: %w", err)
	}
	m := &Manifest{}
	for i, rb := range raw.Bases {
		b, err := rb.base(fmt.Sprintf("bases[%d]", i))
		if err != nil {
			return nil, fmt.Errorf("invalid manifest: %w", err)
		}
		m.Bases = append(m.Bases, b)
	}
	return m, nil
}
