package charm

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// metaKeysFromCharmcraft are the charmcraft.yaml keys that charmcraft
// copies into metadata.yaml when it packs a unified-format charm.
var metaKeysFromCharmcraft = []string{
	"name", "summary", "description", "subordinate",
	"provides", "requires", "peers", "extra-bindings",
	"containers", "resources", "storage", "assumes", "charm-user", "devices",
}

// charmcraftParts is what a unified charmcraft.yaml yields.
type charmcraftParts struct {
	meta     *Meta     // nil unless the file declares a name
	config   *Config   // nil unless the file has config
	actions  *Actions  // nil unless the file has actions
	manifest *Manifest // nil unless the file has base/bases
}

// parseCharmcraft reads a charmcraft.yaml the way charmcraft pack renders
// it into metadata.yaml, config.yaml, actions.yaml and manifest.yaml.
func parseCharmcraft(data []byte) (*charmcraftParts, error) {
	raw, err := decodeYAML(data)
	if err != nil {
		return nil, err
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected a mapping at the top level, got %s", typeName(raw))
	}
	f := fields{m: top}
	typ, err := f.str("type")
	if err != nil {
		return nil, err
	}
	if typ != "" && typ != "charm" {
		return nil, fmt.Errorf("type %q is not a charm", typ)
	}
	parts := &charmcraftParts{}
	if _, ok := top["name"]; ok {
		metaTree := map[string]any{}
		for _, k := range metaKeysFromCharmcraft {
			if v, ok := top[k]; ok {
				metaTree[k] = v
			}
		}
		if parts.meta, err = parseMetaTree(metaTree); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
	}
	if v, ok := top["config"]; ok {
		if parts.config, err = parseConfigTree(v); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	if v, ok := top["actions"]; ok {
		if parts.actions, err = parseActionsTree(v); err != nil {
			return nil, fmt.Errorf("actions: %w", err)
		}
	}
	if parts.manifest, err = charmcraftManifest(data); err != nil {
		return nil, err
	}
	return parts, nil
}

// stringOrList decodes either one string or a list of strings.
type stringOrList []string

func (s *stringOrList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = []string{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

type charmcraftBase struct {
	rawBase `yaml:",inline"`
	BuildOn []rawBase `yaml:"build-on"`
	RunOn   []rawBase `yaml:"run-on"`
}

type charmcraftPlatform struct {
	BuildFor stringOrList `yaml:"build-for"`
}

// charmcraftManifest derives manifest bases from either the current form
// (base + platforms) or the deprecated bases list (run-on, else build-on,
// else the short name/channel form).
func charmcraftManifest(data []byte) (*Manifest, error) {
	var raw struct {
		Base      string                         `yaml:"base"`
		Platforms map[string]*charmcraftPlatform `yaml:"platforms"`
		Bases     []charmcraftBase               `yaml:"bases"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("bases: %w", err)
	}
	switch {
	case raw.Base != "" && len(raw.Bases) > 0:
		return nil, fmt.Errorf(`"base" and "bases" cannot both be set; keep "base" and "platforms"`)
	case len(raw.Bases) > 0:
		m := &Manifest{}
		for i, cb := range raw.Bases {
			path := fmt.Sprintf("bases[%d]", i)
			var list []rawBase
			switch {
			case len(cb.RunOn) > 0:
				list, path = cb.RunOn, path+".run-on"
			case len(cb.BuildOn) > 0:
				list, path = cb.BuildOn, path+".build-on"
			default:
				list = []rawBase{cb.rawBase}
			}
			for j, rb := range list {
				p := path
				if len(list) > 1 || p != fmt.Sprintf("bases[%d]", i) {
					p = fmt.Sprintf("%s[%d]", path, j)
				}
				b, err := rb.base(p)
				if err != nil {
					return nil, err
				}
				m.Bases = append(m.Bases, b)
			}
		}
		return m, nil
	case raw.Base != "" || len(raw.Platforms) > 0:
		return platformsManifest(raw.Base, raw.Platforms)
	}
	return nil, nil
}

func platformsManifest(base string, platforms map[string]*charmcraftPlatform) (*Manifest, error) {
	var order []string
	arches := map[string][]string{}
	add := func(b, arch string) error {
		if b == "" {
			return fmt.Errorf("platforms: %q names no base; set \"base: ubuntu@<version>\" or write \"ubuntu@<version>:%s\"", arch, arch)
		}
		if _, err := ParseBase(b); err != nil {
			return err
		}
		if _, seen := arches[b]; !seen {
			order = append(order, b)
			arches[b] = nil
		}
		if arch != "" {
			arches[b] = append(arches[b], arch)
		}
		return nil
	}
	split := func(s string) (string, string) {
		if b, arch, ok := strings.Cut(s, ":"); ok {
			return b, arch
		}
		return base, s
	}
	names := make([]string, 0, len(platforms))
	for name := range platforms {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := platforms[name]
		targets := []string{name}
		if p != nil && len(p.BuildFor) > 0 {
			targets = p.BuildFor
		}
		for _, t := range targets {
			if err := add(split(t)); err != nil {
				return nil, err
			}
		}
	}
	if len(platforms) == 0 {
		if err := add(base, ""); err != nil {
			return nil, err
		}
	}
	m := &Manifest{}
	for _, b := range order {
		pb, _ := ParseBase(b)
		pb.Architectures = arches[b]
		m.Bases = append(m.Bases, pb)
	}
	return m, nil
}
