package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/bundle"
)

// isBundlePath reports whether a deploy argument is a bundle file.
func isBundlePath(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".yaml" && ext != ".yml" {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// deployBundle reads the bundle and its charms, plans the changes against
// the model's status (internal/bundle) and runs them with the ordinary
// API calls, printing each; with dryRun it only prints them.
func deployBundle(env *Env, modelRef, path string, dryRun bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read bundle: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	b, err := bundle.Parse(data, filepath.Dir(abs))
	if err != nil {
		return fmt.Errorf("cannot deploy bundle %q: %w", path, err)
	}
	charms := map[string]bundle.CharmInfo{}
	archives := map[string][]byte{}
	for name, a := range b.Applications {
		ch, archive, err := loadCharm("deploy", a.Charm)
		if err != nil {
			return fmt.Errorf("bundle application %q: %w", name, err)
		}
		if _, err := ch.Config.ParseSettingsStrings(a.Options); err != nil {
			return fmt.Errorf("bundle application %q: %w", name, err)
		}
		charms[name] = bundle.CharmInfo{Name: ch.Meta.Name, Subordinate: ch.Meta.Subordinate}
		archives[name] = archive
	}
	conn, m, err := connectModel(env, modelRef)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	current, err := bundleModel(ctx, conn, m, b)
	if err != nil {
		return err
	}
	changes, err := bundle.Plan(b, charms, current)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		fmt.Fprintf(env.Stderr, "No changes to apply: the model already holds bundle %q\n", path)
		return nil
	}
	if dryRun {
		fmt.Fprintf(env.Stdout, "Changes to deploy bundle %q:\n", path)
		for _, c := range changes {
			fmt.Fprintf(env.Stdout, "- %s\n", c)
		}
		return nil
	}
	ex := &bundleExec{conn: conn, model: m, machines: map[string]string{}}
	for _, c := range changes {
		fmt.Fprintf(env.Stderr, "- %s\n", c)
		if err := ex.run(ctx, c, archives[c.App]); err != nil {
			return fmt.Errorf("cannot deploy bundle: %s: %w", c, err)
		}
	}
	fmt.Fprintf(env.Stderr, "Deploy of bundle completed.\n")
	return nil
}

// bundleModel reads what the model holds of the bundle's applications.
func bundleModel(ctx context.Context, conn *api.Conn, model string, b *bundle.Bundle) (bundle.Model, error) {
	out := bundle.Model{Applications: map[string]bundle.ModelApp{}}
	st, err := conn.Status(ctx, &apipb.StatusRequest{Model: model})
	if err != nil {
		return out, apiError(err)
	}
	for _, a := range st.Applications {
		ma := bundle.ModelApp{Charm: a.CharmName, Options: map[string]string{}}
		for _, u := range a.Units {
			if u.Principal == "" {
				ma.Units = append(ma.Units, u.Name)
			}
		}
		if _, inBundle := b.Applications[a.Name]; inBundle {
			cfg, err := conn.GetConfig(ctx, &apipb.GetConfigRequest{Model: model, Application: a.Name})
			if err != nil {
				return out, apiError(err)
			}
			var settings map[string]map[string]any
			if err := json.Unmarshal(cfg.SettingsJson, &settings); err != nil {
				return out, fmt.Errorf("cannot read the settings of %q: %w", a.Name, err)
			}
			for k, e := range settings {
				if e["source"] == "user" {
					ma.Options[k] = settingString(e["value"])
				}
			}
		}
		out.Applications[a.Name] = ma
	}
	for _, r := range st.Relations {
		if r.Life != "alive" || len(r.Endpoints) != 2 {
			continue
		}
		e := r.Endpoints
		out.Relations = append(out.Relations, [2]string{e[0].Application + ":" + e[0].Name, e[1].Application + ":" + e[1].Name})
	}
	return out, nil
}

func settingString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// bundleExec runs plan changes; machines maps bundle machine ids to the
// model's.
type bundleExec struct {
	conn     *api.Conn
	model    string
	machines map[string]string
}

func (x *bundleExec) run(ctx context.Context, c bundle.Change, archive []byte) error {
	switch c.Kind {
	case bundle.AddMachine:
		res, err := x.conn.AddMachine(ctx, &apipb.AddMachineRequest{Model: x.model, NumMachines: 1})
		if err != nil {
			return apiError(err)
		}
		x.machines[c.Machine] = res.Machines[0]
	case bundle.Deploy:
		to, err := x.placements(ctx, c.To)
		if err != nil {
			return err
		}
		if _, err := x.conn.Deploy(ctx, &apipb.DeployRequest{Model: x.model, Application: c.App, CharmArchive: archive,
			NumUnits: int32(c.NumUnits), Config: c.Options, To: to}); err != nil {
			return apiError(err)
		}
	case bundle.AddUnits:
		to, err := x.placements(ctx, c.To)
		if err != nil {
			return err
		}
		if _, err := x.conn.AddUnit(ctx, &apipb.AddUnitRequest{Model: x.model, Application: c.App, NumUnits: int32(c.NumUnits), To: to}); err != nil {
			return apiError(err)
		}
	case bundle.SetConfig:
		if _, err := x.conn.SetConfig(ctx, &apipb.SetConfigRequest{Model: x.model, Application: c.App, Values: c.Options}); err != nil {
			return apiError(err)
		}
	case bundle.Integrate:
		if _, err := x.conn.Integrate(ctx, &apipb.IntegrateRequest{Model: x.model, A: c.Sides[0], B: c.Sides[1]}); err != nil {
			return apiError(err)
		}
	default:
		return fmt.Errorf("unknown change %q", c.Kind)
	}
	return nil
}

// placements turns plan placements into --to machine ids. Trailing "new"
// placements are left to the deploy (units beyond --to get new
// machines); a "new" before a fixed placement gets a machine of its own.
func (x *bundleExec) placements(ctx context.Context, ps []bundle.Placement) ([]string, error) {
	last := len(ps) - 1
	for last >= 0 && ps[last] == (bundle.Placement{}) {
		last--
	}
	var out []string
	var st *apipb.StatusResult
	for _, p := range ps[:last+1] {
		switch {
		case p.Machine != "":
			id, ok := x.machines[p.Machine]
			if !ok {
				return nil, fmt.Errorf("bundle machine %s was not added", p.Machine)
			}
			out = append(out, id)
		case p.Unit != "":
			if st == nil {
				var err error
				if st, err = x.conn.Status(ctx, &apipb.StatusRequest{Model: x.model}); err != nil {
					return nil, apiError(err)
				}
			}
			id := unitMachine(st, p.Unit)
			if id == "" {
				return nil, fmt.Errorf("unit %s is not in the model", p.Unit)
			}
			out = append(out, id)
		default:
			res, err := x.conn.AddMachine(ctx, &apipb.AddMachineRequest{Model: x.model, NumMachines: 1})
			if err != nil {
				return nil, apiError(err)
			}
			out = append(out, res.Machines[0])
		}
	}
	return out, nil
}

func unitMachine(st *apipb.StatusResult, unit string) string {
	for _, a := range st.Applications {
		for _, u := range a.Units {
			if u.Name == unit {
				return u.Machine
			}
		}
	}
	return ""
}
