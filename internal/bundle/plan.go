package bundle

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// CharmInfo is what Plan needs of the charm a bundle application names.
type CharmInfo struct {
	Name        string
	Subordinate bool
}

// Model is what the target model holds now.
type Model struct {
	Applications map[string]ModelApp
	// Relations are the alive non-peer relations, as "app:endpoint" pairs.
	Relations [][2]string
}

// ModelApp is one application of the model.
type ModelApp struct {
	Charm string // charm name
	// Units are the unit names (alive or dying).
	Units []string
	// Options are the settings the user set, as strings.
	Options map[string]string
}

// Kinds of Change.
const (
	AddMachine = "add-machine"
	Deploy     = "deploy"
	AddUnits   = "add-unit"
	SetConfig  = "config"
	Integrate  = "integrate"
)

// Placement is where one unit goes: a machine of the bundle's machines
// section, the machine of an existing or earlier-deployed unit, or a new
// machine.
type Placement struct {
	Machine string // bundle machine id
	Unit    string // "app/n"
}

func (p Placement) String() string {
	switch {
	case p.Machine != "":
		return "machine " + p.Machine
	case p.Unit != "":
		return "with " + p.Unit
	}
	return "new"
}

// Change is one step of a plan.
type Change struct {
	Kind     string
	App      string            // deploy, add-unit, config
	Charm    string            // deploy: the charm path
	NumUnits int               // deploy, add-unit
	Options  map[string]string // deploy, config
	// To places the first len(To) units; the others get new machines.
	To      []Placement
	Machine string    // add-machine: the bundle's machine id
	Sides   [2]string // integrate
}

// String renders the change on one line, deterministically.
func (c Change) String() string {
	switch c.Kind {
	case AddMachine:
		return "add-machine " + c.Machine
	case Deploy:
		return fmt.Sprintf("deploy %s from %s -n %d%s%s", c.App, c.Charm, c.NumUnits, options(c.Options), placements(c.To))
	case AddUnits:
		return fmt.Sprintf("add-unit %s -n %d%s", c.App, c.NumUnits, placements(c.To))
	case SetConfig:
		return fmt.Sprintf("config %s%s", c.App, options(c.Options))
	case Integrate:
		return "integrate " + c.Sides[0] + " " + c.Sides[1]
	}
	return c.Kind
}

func options(o map[string]string) string {
	if len(o) == 0 {
		return ""
	}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(o[k])
	}
	return " " + strings.Join(parts, " ")
}

func placements(to []Placement) string {
	if len(to) == 0 {
		return ""
	}
	parts := make([]string, len(to))
	for i, p := range to {
		parts[i] = p.String()
	}
	return " to [" + strings.Join(parts, ", ") + "]"
}

// Plan returns the changes that make the model hold the bundle, in the
// order they must run: the bundle machines the new units need, then the
// deploys (an application placed with another's unit after that one),
// added units, settings and relations. charms holds the charm of each
// bundle application. A model application of another charm, or a
// subordinate given units, is an error naming it.
func Plan(b *Bundle, charms map[string]CharmInfo, m Model) ([]Change, error) {
	names := make([]string, 0, len(b.Applications))
	for n := range b.Applications {
		names = append(names, n)
	}
	sort.Strings(names)
	var deploys, adds, configs []Change
	machinesNeeded := map[string]bool{}
	// unitsAfter: units each application will have once the plan ran.
	unitsAfter := map[string]int{}
	for _, n := range names {
		a := b.Applications[n]
		ci, ok := charms[n]
		if !ok {
			return nil, fmt.Errorf("application %q: its charm %s was not read", n, a.Charm)
		}
		if ci.Subordinate && a.NumUnits > 0 {
			return nil, fmt.Errorf("application %q: charm %q is a subordinate charm and cannot have num_units; its units follow the principals it is related to", n, ci.Name)
		}
		cur, exists := m.Applications[n]
		if !exists {
			to := toPlacements(a.To)
			deploys = append(deploys, Change{Kind: Deploy, App: n, Charm: a.Charm, NumUnits: a.NumUnits, Options: a.Options, To: to})
			unitsAfter[n] = a.NumUnits
			for _, p := range to {
				if p.Machine != "" {
					machinesNeeded[p.Machine] = true
				}
			}
			continue
		}
		if cur.Charm != ci.Name {
			return nil, fmt.Errorf("cannot deploy the bundle: application %q exists with charm %q, and the bundle wants charm %q; remove it or rename it in the bundle", n, cur.Charm, ci.Name)
		}
		unitsAfter[n] = len(cur.Units)
		if missing := a.NumUnits - len(cur.Units); missing > 0 {
			var to []Placement
			if len(a.To) > len(cur.Units) {
				to = toPlacements(a.To[len(cur.Units):])
			}
			adds = append(adds, Change{Kind: AddUnits, App: n, NumUnits: missing, To: to})
			unitsAfter[n] = a.NumUnits
			for _, p := range to {
				if p.Machine != "" {
					machinesNeeded[p.Machine] = true
				}
			}
		}
		diff := map[string]string{}
		for k, v := range a.Options {
			if cur.Options[k] != v {
				diff[k] = v
			}
		}
		if len(diff) > 0 {
			configs = append(configs, Change{Kind: SetConfig, App: n, Options: diff})
		}
	}
	// Unit placements must name a unit that exists once the plan ran.
	for _, c := range append(append([]Change(nil), deploys...), adds...) {
		for _, p := range c.To {
			if p.Unit == "" {
				continue
			}
			app, num, _ := strings.Cut(p.Unit, "/")
			k, _ := strconv.Atoi(num)
			if app == c.App {
				return nil, fmt.Errorf("application %q: placement with its own unit %s", c.App, p.Unit)
			}
			_, deployed := m.Applications[app]
			inModel := deployed && slices.Contains(m.Applications[app].Units, p.Unit)
			if !inModel && (deployed || k >= unitsAfter[app]) {
				return nil, fmt.Errorf("application %q: placement with %s, which neither the model nor the bundle has", c.App, p.Unit)
			}
		}
	}
	ordered, err := orderDeploys(deploys)
	if err != nil {
		return nil, err
	}
	var out []Change
	ids := make([]string, 0, len(machinesNeeded))
	for id := range machinesNeeded {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return machineLess(ids[i], ids[j]) })
	for _, id := range ids {
		out = append(out, Change{Kind: AddMachine, Machine: id})
	}
	out = append(out, ordered...)
	out = append(out, adds...)
	out = append(out, configs...)
	for _, r := range b.Relations {
		if !related(m.Relations, r) {
			out = append(out, Change{Kind: Integrate, Sides: r})
		}
	}
	return out, nil
}

func toPlacements(to []string) []Placement {
	var out []Placement
	for _, d := range to {
		switch {
		case d == "new":
			out = append(out, Placement{})
		case strings.Contains(d, "/"):
			out = append(out, Placement{Unit: d})
		default:
			out = append(out, Placement{Machine: d})
		}
	}
	return out
}

// orderDeploys puts each deploy after the deploys whose units it is
// placed with (a stable topological order; names break ties).
func orderDeploys(deploys []Change) ([]Change, error) {
	byApp := map[string]Change{}
	for _, d := range deploys {
		byApp[d.App] = d
	}
	var out []Change
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(app string, path []string) error
	visit = func(app string, path []string) error {
		switch state[app] {
		case 1:
			return fmt.Errorf("cannot deploy the bundle: placements form a cycle: %s", strings.Join(append(path, app), " -> "))
		case 2:
			return nil
		}
		state[app] = 1
		d := byApp[app]
		for _, p := range d.To {
			if dep, _, _ := strings.Cut(p.Unit, "/"); dep != "" {
				if _, ok := byApp[dep]; ok {
					if err := visit(dep, append(path, app)); err != nil {
						return err
					}
				}
			}
		}
		state[app] = 2
		out = append(out, d)
		return nil
	}
	for _, d := range deploys {
		if err := visit(d.App, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// related reports whether an existing relation matches bundle relation r:
// each side names an application (and, when given, an endpoint) of a
// different endpoint of the relation.
func related(rels [][2]string, r [2]string) bool {
	match := func(side, ep string) bool {
		if strings.Contains(side, ":") {
			return side == ep
		}
		app, _, _ := strings.Cut(ep, ":")
		return side == app
	}
	for _, e := range rels {
		if match(r[0], e[0]) && match(r[1], e[1]) || match(r[0], e[1]) && match(r[1], e[0]) {
			return true
		}
	}
	return false
}
