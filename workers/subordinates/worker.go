package subordinates

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Entities is how the worker changes entities (through their actors).
type Entities interface {
	// AddSubordinate creates the unit of app for principal, or does
	// nothing when it exists.
	AddSubordinate(ctx context.Context, model, app, principal string) error
	DestroyUnit(ctx context.Context, model, unit string) error
}

// Config configures the worker.
type Config struct {
	Store    *store.Store
	Entities Entities
	Resync   time.Duration // zero means 10s
	Logger   *slog.Logger
}

// Action is one step Decide chose: "add" (App for Principal) or
// "destroy" (Unit).
type Action struct {
	Kind      string
	App       string
	Principal string
	Unit      string
}

// State is one model's documents Decide reads.
type State struct {
	Apps      []entity.Application
	Units     []entity.Unit
	Relations []entity.Relation
	// InScope holds "<relation id>/<unit>" for every unit in scope.
	InScope map[string]bool
}

// Decide is the pure core: the subordinate units to add and to destroy.
func Decide(st State) []Action {
	apps := map[string]entity.Application{}
	for _, a := range st.Apps {
		apps[a.Name] = a
	}
	units := map[string]entity.Unit{}
	have := map[string]bool{} // principal/subApp of an existing unit
	for _, u := range st.Units {
		units[u.Name] = u
		if u.Principal != "" && u.Life != entity.Dead {
			have[u.Principal+"|"+u.Application] = true
		}
	}
	// linked: principal app|sub app pairs with an alive container relation.
	linked := map[string]bool{}
	var out []Action
	for _, r := range st.Relations {
		if r.Life != entity.Alive || len(r.Endpoints) != 2 || r.Endpoints[0].Scope != entity.ScopeContainer {
			continue
		}
		for i := range 2 {
			sub, prin := apps[r.Endpoints[i].Application], apps[r.Endpoints[1-i].Application]
			if !sub.Subordinate || prin.Subordinate || sub.Life != entity.Alive || prin.Life != entity.Alive {
				continue
			}
			linked[prin.Name+"|"+sub.Name] = true
			for _, u := range st.Units {
				if u.Application != prin.Name || u.Life != entity.Alive || u.Principal != "" || have[u.Name+"|"+sub.Name] {
					continue
				}
				if st.InScope[fmt.Sprintf("%d/%s", r.ID, u.Name)] {
					out = append(out, Action{Kind: "add", App: sub.Name, Principal: u.Name})
					have[u.Name+"|"+sub.Name] = true
				}
			}
		}
	}
	for _, u := range st.Units {
		if u.Principal == "" || u.Life != entity.Alive {
			continue
		}
		p, ok := units[u.Principal]
		if !ok || p.Life != entity.Alive || !linked[p.Application+"|"+u.Application] {
			out = append(out, Action{Kind: "destroy", Unit: u.Name})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Principal+out[i].Unit+out[i].App < out[j].Principal+out[j].Unit+out[j].App
	})
	return out
}

// Run reconciles until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Resync == 0 {
		cfg.Resync = 10 * time.Second
	}
	return cfg.Store.Reconcile(ctx, store.Prefix+"m/", cfg.Resync,
		func(ctx context.Context) error { return pass(ctx, cfg) },
		func(err error) { cfg.Logger.Warn("subordinates pass failed", "err", err) })
}

func pass(ctx context.Context, cfg Config) error {
	kvs, _, err := cfg.Store.List(ctx, store.Prefix+"m/")
	if err != nil {
		return err
	}
	models := map[string]*State{}
	get := func(m string) *State {
		if models[m] == nil {
			models[m] = &State{InScope: map[string]bool{}}
		}
		return models[m]
	}
	for _, kv := range kvs {
		parts := strings.SplitN(strings.TrimPrefix(kv.Key, store.Prefix+"m/"), "/", 3)
		if len(parts) != 3 {
			continue
		}
		switch parts[1] {
		case "app":
			var a entity.Application
			if err := json.Unmarshal(kv.Value, &a); err != nil {
				return err
			}
			st := get(parts[0])
			st.Apps = append(st.Apps, a)
		case "unit":
			var u entity.Unit
			if err := json.Unmarshal(kv.Value, &u); err != nil {
				return err
			}
			st := get(parts[0])
			st.Units = append(st.Units, u)
		case "relation":
			var r entity.Relation
			if err := json.Unmarshal(kv.Value, &r); err != nil {
				return err
			}
			st := get(parts[0])
			st.Relations = append(st.Relations, r)
		case "relation-unit":
			var ru entity.RelationUnit
			if err := json.Unmarshal(kv.Value, &ru); err != nil {
				return err
			}
			if ru.InScope {
				get(parts[0]).InScope[fmt.Sprintf("%d/%s", ru.Relation, ru.Unit)] = true
			}
		}
	}
	for model, st := range models {
		for _, act := range Decide(*st) {
			switch act.Kind {
			case "add":
				if err := cfg.Entities.AddSubordinate(ctx, model, act.App, act.Principal); err != nil {
					return fmt.Errorf("cannot add a unit of %s for %s: %w", act.App, act.Principal, err)
				}
				cfg.Logger.Info("subordinate unit added", "model", model, "application", act.App, "principal", act.Principal)
			case "destroy":
				if err := cfg.Entities.DestroyUnit(ctx, model, act.Unit); err != nil {
					return fmt.Errorf("cannot destroy subordinate unit %s: %w", act.Unit, err)
				}
				cfg.Logger.Info("subordinate unit destroyed: its principal or relation is going", "model", model, "unit", act.Unit)
			}
		}
	}
	return nil
}
