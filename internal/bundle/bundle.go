package bundle

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Bundle is a parsed bundle file.
type Bundle struct {
	// Applications by name.
	Applications map[string]Application
	// Machines are the ids of the machines section.
	Machines []string
	// Relations are pairs of "app" or "app:endpoint".
	Relations [][2]string
}

// Application is one entry of the applications section.
type Application struct {
	// Charm is the charm path, absolute (resolved against the bundle's
	// directory).
	Charm    string
	NumUnits int
	// Options are charm settings rendered as the k=v strings `troupe
	// deploy --config` takes.
	Options map[string]string
	To      []string
}

// Bounds on what Parse accepts: aliases expand while decoding, so a few
// lines of YAML could otherwise stand for millions of values.
const (
	maxBundleSize  = 4 << 20
	maxBundleNodes = 1 << 16
	maxBundleDepth = 100
)

// withinBudget counts n's values, aliases expanded, against budget.
func withinBudget(n *yaml.Node, budget *int, depth int) bool {
	*budget--
	if *budget < 0 || depth > maxBundleDepth {
		return false
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return withinBudget(n.Alias, budget, depth+1)
	}
	for _, c := range n.Content {
		if !withinBudget(c, budget, depth+1) {
			return false
		}
	}
	return true
}

type rawBundle struct {
	Applications map[string]rawApp `yaml:"applications"`
	Services     map[string]rawApp `yaml:"services"`
	Machines     map[string]any    `yaml:"machines"`
	Relations    [][]string        `yaml:"relations"`
	Series       string            `yaml:"series"`
}

type rawApp struct {
	Charm    string         `yaml:"charm"`
	NumUnits *int           `yaml:"num_units"`
	Scale    *int           `yaml:"scale"`
	Options  map[string]any `yaml:"options"`
	To       []string       `yaml:"to"`
}

// Parse parses bundle data; dir is the bundle file's directory, against
// which relative charm paths are resolved.
func Parse(data []byte, dir string) (*Bundle, error) {
	if len(data) > maxBundleSize {
		return nil, fmt.Errorf("invalid bundle: %d bytes is more than the %d a bundle may have", len(data), maxBundleSize)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("invalid bundle: %w", err)
	}
	budget := maxBundleNodes
	if !withinBudget(&doc, &budget, 0) {
		return nil, errors.New("invalid bundle: too many values once aliases are expanded")
	}
	var raw rawBundle
	if err := doc.Decode(&raw); err != nil {
		return nil, fmt.Errorf("invalid bundle: %w", err)
	}
	apps := raw.Applications
	if len(apps) == 0 {
		apps = raw.Services
	}
	if len(apps) == 0 {
		return nil, errors.New("invalid bundle: no applications section")
	}
	b := &Bundle{Applications: map[string]Application{}}
	for id := range raw.Machines {
		if !isMachineID(id) {
			return nil, fmt.Errorf("invalid bundle: machine id %q: use non-negative integers", id)
		}
		b.Machines = append(b.Machines, id)
	}
	sort.Slice(b.Machines, func(i, j int) bool { return machineLess(b.Machines[i], b.Machines[j]) })
	machines := map[string]bool{}
	for _, id := range b.Machines {
		machines[id] = true
	}
	for name, ra := range apps {
		if ra.Charm == "" {
			return nil, fmt.Errorf("invalid bundle: application %q has no charm", name)
		}
		if !strings.HasPrefix(ra.Charm, ".") && !strings.HasPrefix(ra.Charm, "/") {
			return nil, fmt.Errorf("application %q: charm %q is not a local path; only local charms (./dir or /path/x.charm) can be deployed", name, ra.Charm)
		}
		a := Application{Charm: ra.Charm, To: ra.To, Options: map[string]string{}}
		if !filepath.IsAbs(a.Charm) {
			a.Charm = filepath.Join(dir, a.Charm)
		}
		switch {
		case ra.NumUnits != nil:
			a.NumUnits = *ra.NumUnits
		case ra.Scale != nil:
			a.NumUnits = *ra.Scale
		}
		if a.NumUnits < 0 {
			return nil, fmt.Errorf("invalid bundle: application %q: num_units %d is negative", name, a.NumUnits)
		}
		if len(a.To) > a.NumUnits {
			return nil, fmt.Errorf("invalid bundle: application %q has %d placements in to for %d units", name, len(a.To), a.NumUnits)
		}
		for _, d := range a.To {
			if err := checkPlacement(d, machines); err != nil {
				return nil, fmt.Errorf("invalid bundle: application %q: %w", name, err)
			}
		}
		for k, v := range ra.Options {
			s, err := optionString(v)
			if err != nil {
				return nil, fmt.Errorf("invalid bundle: application %q option %q: %w", name, k, err)
			}
			a.Options[k] = s
		}
		b.Applications[name] = a
	}
	for i, r := range raw.Relations {
		if len(r) != 2 {
			return nil, fmt.Errorf("invalid bundle: relation %d has %d endpoints; write [app:endpoint, app:endpoint]", i+1, len(r))
		}
		for _, side := range r {
			app, _, _ := strings.Cut(side, ":")
			if _, ok := b.Applications[app]; !ok {
				return nil, fmt.Errorf("invalid bundle: relation %q names application %q, which the bundle does not define", strings.Join(r, " "), app)
			}
		}
		b.Relations = append(b.Relations, [2]string{r[0], r[1]})
	}
	return b, nil
}

func checkPlacement(d string, machines map[string]bool) error {
	switch {
	case d == "new":
		return nil
	case isMachineID(d):
		if !machines[d] {
			return fmt.Errorf("placement %q names no machine of the machines section", d)
		}
		return nil
	case strings.Contains(d, "/"):
		app, n, ok := strings.Cut(d, "/")
		if _, err := strconv.Atoi(n); !ok || err != nil || app == "" {
			return fmt.Errorf("invalid placement %q: use a machine id, \"new\" or <application>/<unit number>", d)
		}
		return nil
	default:
		return fmt.Errorf("placement %q is not supported: use a machine id of the machines section, \"new\" or <application>/<unit number>", d)
	}
}

func optionString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("value of type %T is not a scalar", v)
}

func isMachineID(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func machineLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
