// Package cleaner is the controller worker that carries life cascades to
// their end. It is level-triggered: on every store change (and every
// Resync) it derives, from the documents alone, what must happen next:
//
//	application dying ─▶ each of its alive units: destroy (dying)
//	application dying ─▶ each of its alive relations: destroy (dying)
//	application dying, every unit dead, no relation left ─▶ application dead
//	machine allocated for units, none of them left (all dead) ─▶ machine destroyed (dying)
//
// A machine hosting several units (placed with `--to`) is kept while any
// of them is not dead; a standalone machine (`troupe add-machine`) is
// never destroyed here. The provisioner stops a dying machine's instance.
//
// Because every step is recomputed from durable state, a cascade resumes
// after a controller crash at any point. Changes go through the entities'
// actors (the Entities interface); the cleaner itself writes nothing.
package cleaner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Entities is how the cleaner changes entities (through their actors).
type Entities interface {
	DestroyUnit(ctx context.Context, model, unit string) error
	DestroyRelation(ctx context.Context, model string, id int) error
	ApplicationDead(ctx context.Context, model, app string) error
	DestroyMachine(ctx context.Context, model, id string) error
	// DestroyApplication and RemoveModel carry a dying model's
	// destruction (see DecideModel).
	DestroyApplication(ctx context.Context, model, app string) error
	RemoveModel(ctx context.Context, model string) error
}

// Config configures the cleaner.
type Config struct {
	Store    *store.Store
	Entities Entities
	Resync   time.Duration // zero means 10s
	Logger   *slog.Logger
}

// Action is one step a pass decided.
type Action struct {
	// Kind: "destroy-unit", "destroy-relation" (Name is the id),
	// "application-dead" or "destroy-machine".
	Model, Kind, Name string
}

// DecideRelations is the pure core for relations: it adds to the actions
// of Decide the destruction of every alive relation of a dying
// application, and holds back "application-dead" while any relation of
// the application still exists (its remote units are still departing).
func DecideRelations(model string, apps []entity.Application, rels []entity.Relation, actions []Action) []Action {
	dying := map[string]bool{}
	for _, a := range apps {
		if a.Life == entity.Dying {
			dying[a.Name] = true
		}
	}
	related := map[string]bool{}
	var out []Action
	for _, r := range rels {
		destroy := false
		for _, e := range r.Endpoints {
			related[e.Application] = true
			destroy = destroy || dying[e.Application]
		}
		if destroy && r.Life == entity.Alive {
			out = append(out, Action{Model: model, Kind: "destroy-relation", Name: strconv.Itoa(r.ID)})
		}
	}
	for _, act := range actions {
		if act.Kind == "application-dead" && related[act.Name] {
			continue
		}
		out = append(out, act)
	}
	return out
}

// Decide is the pure core: given a model's applications and units, the
// steps the cascade needs now.
func Decide(model string, apps []entity.Application, units []entity.Unit) []Action {
	var out []Action
	for _, a := range apps {
		if a.Life != entity.Dying {
			continue
		}
		alive := 0
		for _, u := range units {
			if u.Application != a.Name {
				continue
			}
			switch u.Life {
			case entity.Alive:
				out = append(out, Action{Model: model, Kind: "destroy-unit", Name: u.Name})
				alive++
			case entity.Dying:
				alive++
			}
		}
		if alive == 0 {
			out = append(out, Action{Model: model, Kind: "application-dead", Name: a.Name})
		}
	}
	return out
}

// DecideMachines is the pure core of machine release: an alive machine
// that was allocated for units is destroyed once every unit placed on it
// is dead.
func DecideMachines(model string, machines []entity.Machine, units []entity.Unit) []Action {
	var out []Action
	for _, m := range machines {
		if m.Life != entity.Alive || m.Standalone {
			continue
		}
		left := false
		for _, u := range units {
			if u.Machine == m.ID && u.Life != entity.Dead {
				left = true
				break
			}
		}
		if !left {
			out = append(out, Action{Model: model, Kind: "destroy-machine", Name: m.ID})
		}
	}
	return out
}

// skipUndecodable logs a document the pass cannot read. One bad document
// must not stop every other cascade; the entity's own actor reports it.
func skipUndecodable(log *slog.Logger, key string, err error) {
	log.Error("skipping undecodable document", "key", key, "err", err)
}

// Run cleans until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Resync == 0 {
		cfg.Resync = 10 * time.Second
	}
	// The whole prefix: a model document turning dying (under models/)
	// must start a pass as much as an entity change does.
	return cfg.Store.Reconcile(ctx, store.Prefix, cfg.Resync,
		func(ctx context.Context) error { return Pass(ctx, cfg) },
		func(err error) { cfg.Logger.Warn("cleanup pass failed", "err", err) })
}

// Pass is one level-triggered pass, what Run does on every change: it
// lists the documents, decides, and carries out each step in turn through
// cfg.Entities, stopping at the first failure (the next pass decides
// again from what is durable). Only Store, Entities and Logger are used.
func Pass(ctx context.Context, cfg Config) error {
	kvs, _, err := cfg.Store.List(ctx, store.Prefix+"m/")
	if err != nil {
		return err
	}
	apps := map[string][]entity.Application{}
	units := map[string][]entity.Unit{}
	rels := map[string][]entity.Relation{}
	machines := map[string][]entity.Machine{}
	blind := map[string]bool{} // models with an unreadable unit document
	for _, kv := range kvs {
		parts := strings.SplitN(strings.TrimPrefix(kv.Key, store.Prefix+"m/"), "/", 3)
		if len(parts) != 3 {
			continue
		}
		switch parts[1] {
		case "app":
			var a entity.Application
			if err := json.Unmarshal(kv.Value, &a); err != nil {
				skipUndecodable(cfg.Logger, kv.Key, err)
				continue
			}
			apps[parts[0]] = append(apps[parts[0]], a)
		case "unit":
			var u entity.Unit
			if err := json.Unmarshal(kv.Value, &u); err != nil {
				skipUndecodable(cfg.Logger, kv.Key, err)
				// Unknown state: count it as a unit still tearing down, so
				// its application is not declared dead, and decide nothing
				// about machines (it may be on any of them).
				app, _, _ := strings.Cut(parts[2], "/")
				u = entity.Unit{Name: parts[2], Application: app, Life: entity.Dying}
				blind[parts[0]] = true
			}
			units[parts[0]] = append(units[parts[0]], u)
		case "relation":
			var r entity.Relation
			if err := json.Unmarshal(kv.Value, &r); err != nil {
				skipUndecodable(cfg.Logger, kv.Key, err)
				continue
			}
			rels[parts[0]] = append(rels[parts[0]], r)
		case "machine":
			var m entity.Machine
			if err := json.Unmarshal(kv.Value, &m); err != nil {
				skipUndecodable(cfg.Logger, kv.Key, err)
				continue
			}
			machines[parts[0]] = append(machines[parts[0]], m)
		}
	}
	mkvs, _, err := cfg.Store.List(ctx, entity.ModelsPrefix)
	if err != nil {
		return err
	}
	var dyingModels []entity.Model
	for _, kv := range mkvs {
		var m entity.Model
		if err := json.Unmarshal(kv.Value, &m); err != nil {
			skipUndecodable(cfg.Logger, kv.Key, err)
			continue
		}
		if m.Life != entity.Alive {
			dyingModels = append(dyingModels, m)
		}
	}
	for _, m := range dyingModels {
		if blind[m.UUID] {
			continue
		}
		for _, act := range DecideModel(m, apps[m.UUID], units[m.UUID], machines[m.UUID]) {
			var err error
			switch act.Kind {
			case "destroy-application":
				err = cfg.Entities.DestroyApplication(ctx, act.Model, act.Name)
			case "destroy-machine":
				err = cfg.Entities.DestroyMachine(ctx, act.Model, act.Name)
			case "remove-model":
				err = cfg.Entities.RemoveModel(ctx, act.Model)
				if err == nil {
					cfg.Logger.Info("model removed", "model", act.Name, "uuid", act.Model)
				}
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", act.Kind, act.Name, err)
			}
		}
	}
	models := map[string]bool{}
	for m := range apps {
		models[m] = true
	}
	for m := range machines {
		models[m] = true
	}
	for model := range models {
		acts := DecideRelations(model, apps[model], rels[model], Decide(model, apps[model], units[model]))
		if !blind[model] {
			acts = append(acts, DecideMachines(model, machines[model], units[model])...)
		}
		for _, act := range acts {
			var err error
			switch act.Kind {
			case "destroy-unit":
				err = cfg.Entities.DestroyUnit(ctx, act.Model, act.Name)
			case "destroy-relation":
				id, _ := strconv.Atoi(act.Name)
				err = cfg.Entities.DestroyRelation(ctx, act.Model, id)
			case "application-dead":
				err = cfg.Entities.ApplicationDead(ctx, act.Model, act.Name)
				if err == nil {
					cfg.Logger.Info("application removed", "model", act.Model, "application", act.Name)
				}
			case "destroy-machine":
				err = cfg.Entities.DestroyMachine(ctx, act.Model, act.Name)
				if err == nil {
					cfg.Logger.Info("machine has no units left; releasing it", "model", act.Model, "machine", act.Name)
				}
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", act.Kind, act.Name, err)
			}
		}
	}
	return nil
}
