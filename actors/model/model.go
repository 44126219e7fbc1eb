// Package model is the model guardian: one actor per model, parent and
// supervisor of the model's application, unit and machine actors.
//
// The guardian owns the model document and every operation that creates
// entities (so a deploy of an application, its units and their machines is
// one fenced store transaction: all or nothing). After creation, each
// entity is written only by its own actor; the guardian routes messages to
// it, spawning it on demand (it then loads itself from the store).
//
//	API ──Route{kind,id,msg}──▶ guardian ──Forward──▶ entity actor
//	API ──Deploy──────────────▶ guardian (one txn: model+charm+app+units+machines)
package model

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/application"
	"github.com/troupe-dev/troupe/actors/entity"
	"github.com/troupe-dev/troupe/actors/machine"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/actors/unit"
	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/modelconfig"
	"github.com/troupe-dev/troupe/internal/store"
)

// Entity kinds a Route can address.
const (
	KindApplication = "application"
	KindUnit        = "unit"
	KindMachine     = "machine"
)

// Route delivers Msg to the entity actor of Kind/ID; the entity replies to
// the original sender.
type Route struct {
	Kind string
	ID   string
	Msg  any
}

// Deploy creates an application with NumUnits units and records the charm
// under the next local revision. Unit i goes to the machine named by
// To[i] (see Placement); units beyond To get new machines.
type Deploy struct {
	Charm    ent.Charm       // Name, SHA256, Size, Version set by the caller
	App      ent.Application // Name, settings, base set by the caller
	NumUnits int
	To       []string
}

// AddUnits adds N units of an alive application, placed as Deploy's.
type AddUnits struct {
	App      string
	NumUnits int
	To       []string
}

// AddMachines adds N empty, standalone machines (`troupe add-machine`).
type AddMachines struct{ N int }

// MachinesAdded answers AddMachines.
type MachinesAdded struct{ Machines []string }

// SetConfig changes the model settings (`troupe model-config`): Values
// are raw k=v strings, Reset keys return to their defaults.
type SetConfig struct {
	Values map[string]string
	Reset  []string
}

// ConfigSet answers SetConfig.
type ConfigSet struct{}

// UnitsAdded answers AddUnits.
type UnitsAdded struct{ Units []string }

// Deployed answers Deploy.
type Deployed struct {
	Application string
	CharmURL    string
	Units       []string
	Machines    []string
}

// Config configures a guardian.
type Config struct {
	Store    *store.Store
	UUID     string
	Strategy actor.SupervisorStrategy
	Logger   *slog.Logger
}

type guardian struct {
	cfg      Config
	model    *ent.Model            // owned by the actor goroutine
	children map[string]*actor.PID // kind/id -> live actor
	parked   map[string]string     // kind/id -> reason
}

// Props returns the guardian's props.
func Props(cfg Config) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &guardian{cfg: cfg}
	}, actor.WithSupervisor(cfg.Strategy))
}

func (g *guardian) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		g.children = map[string]*actor.PID{}
		g.parked = map[string]string{}
		var doc ent.Model
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := g.cfg.Store.Get(c, ent.ModelKey(g.cfg.UUID), &doc); err != nil {
			panic(fmt.Sprintf("cannot load model %s: %v", g.cfg.UUID, err))
		}
		g.model = &doc
	case *actor.Terminated:
		for k, pid := range g.children {
			if pid.Equal(m.Who) {
				delete(g.children, k)
			}
		}
	case *supervise.Parked:
		for k, pid := range g.children {
			if pid.Equal(m.Child) {
				delete(g.children, k)
				g.parked[k] = m.Reason
				g.logger().Error("entity parked", "model", g.model.Name, "entity", k, "reason", m.Reason)
			}
		}
	case *Deploy:
		res, err := g.deploy(m)
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		ctx.Respond(res)
	case *AddUnits:
		res, err := g.addUnits(m)
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		ctx.Respond(res)
	case *AddMachines:
		res, err := g.addMachines(m)
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		ctx.Respond(res)
	case *SetConfig:
		if err := g.setConfig(m); err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		ctx.Respond(&ConfigSet{})
	case *Route:
		g.route(ctx, m)
	}
}

func (g *guardian) logger() *slog.Logger {
	if g.cfg.Logger != nil {
		return g.cfg.Logger
	}
	return slog.Default()
}

func (g *guardian) route(ctx actor.Context, m *Route) {
	key := m.Kind + "/" + m.ID
	if reason, ok := g.parked[key]; ok {
		ctx.Respond(&supervise.Failure{Err: fmt.Errorf("%s %s is parked in error after repeated failures: %s", m.Kind, m.ID, reason)})
		return
	}
	pid, ok := g.children[key]
	if !ok {
		props, err := g.entityProps(m.Kind, m.ID, nil)
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		pid = ctx.Spawn(props)
		g.children[key] = pid
	}
	ctx.RequestWithCustomSender(pid, m.Msg, ctx.Sender())
}

func (g *guardian) entityProps(kind, id string, initial any) (*actor.Props, error) {
	switch kind {
	case KindApplication:
		cfg := entity.Config[ent.Application]{Store: g.cfg.Store, Key: ent.ApplicationKey(g.cfg.UUID, id), Handle: application.Handle}
		if initial != nil {
			cfg.Initial = initial.(*ent.Application)
		}
		return entity.Props(cfg), nil
	case KindUnit:
		cfg := entity.Config[ent.Unit]{Store: g.cfg.Store, Key: ent.UnitKey(g.cfg.UUID, id), Handle: unit.Handle}
		if initial != nil {
			cfg.Initial = initial.(*ent.Unit)
		}
		return entity.Props(cfg), nil
	case KindMachine:
		cfg := entity.Config[ent.Machine]{Store: g.cfg.Store, Key: ent.MachineKey(g.cfg.UUID, id), Handle: machine.Handle}
		if initial != nil {
			cfg.Initial = initial.(*ent.Machine)
		}
		return entity.Props(cfg), nil
	}
	return nil, fmt.Errorf("unknown entity kind %q", kind)
}

// placement is the result of place: new unit and machine documents, and
// the conditions that keep the chosen existing machines as they were read.
type placement struct {
	ops      []store.Op
	conds    []store.Cond
	units    []string
	machines []string
}

// place allocates n units of app, advancing the model's counters in next.
// Unit i goes to the existing machine to[i] (checked alive now and fenced
// on its revision in the commit); the others each get a new machine.
func (g *guardian) place(ctx context.Context, next *ent.Model, app, baseName, baseChannel string, n int, to []string, now time.Time) (placement, error) {
	var p placement
	targets, err := Placement(to, n)
	if err != nil {
		return p, err
	}
	if next.NextUnits == nil {
		next.NextUnits = map[string]int{}
	} else {
		cp := map[string]int{}
		for k, v := range next.NextUnits {
			cp[k] = v
		}
		next.NextUnits = cp
	}
	checked := map[string]bool{}
	for i := 0; i < n; i++ {
		var mid string
		if i < len(targets) {
			mid = targets[i]
			if !checked[mid] {
				cond, err := g.placeable(ctx, mid)
				if err != nil {
					return p, err
				}
				p.conds = append(p.conds, cond)
				checked[mid] = true
			}
		} else {
			mid = fmt.Sprint(next.NextMachine)
			next.NextMachine++
			mc := newMachine(mid, baseName, baseChannel, now)
			op, err := store.Put(ent.MachineKey(g.cfg.UUID, mid), mc)
			if err != nil {
				return p, err
			}
			p.ops = append(p.ops, op)
		}
		num := next.NextUnits[app]
		next.NextUnits[app]++
		u := &ent.Unit{Name: ent.UnitName(app, num), Application: app, Machine: mid, Life: ent.Alive,
			Workload: ent.Status{Current: "waiting", Message: "waiting for machine", Since: now},
			Agent:    ent.Status{Current: "allocating", Since: now}}
		op, err := store.Put(ent.UnitKey(g.cfg.UUID, u.Name), u)
		if err != nil {
			return p, err
		}
		p.ops = append(p.ops, op)
		p.units = append(p.units, u.Name)
		p.machines = append(p.machines, mid)
	}
	return p, nil
}

func newMachine(id, baseName, baseChannel string, now time.Time) *ent.Machine {
	return &ent.Machine{ID: id, Life: ent.Alive, BaseName: baseName, BaseChannel: baseChannel,
		Agent: ent.Status{Current: "pending", Since: now}, Instance: ent.Status{Current: "pending", Since: now}}
}

// placeable checks that machine id exists and is alive, and returns the
// commit condition that it has not changed since.
func (g *guardian) placeable(ctx context.Context, id string) (store.Cond, error) {
	var mc ent.Machine
	key := ent.MachineKey(g.cfg.UUID, id)
	rev, err := g.cfg.Store.Get(ctx, key, &mc)
	if errors.Is(err, store.ErrNotFound) {
		return store.Cond{}, fmt.Errorf("cannot place a unit on machine %q: no such machine in model %q; see the machines in `troupe status`, or add one with `troupe add-machine`", id, g.model.Name)
	}
	if err != nil {
		return store.Cond{}, err
	}
	if mc.Life != ent.Alive {
		return store.Cond{}, fmt.Errorf("cannot place a unit on machine %q: it is %s; choose an alive machine from `troupe status`, or add one with `troupe add-machine`", id, mc.Life)
	}
	return store.Unchanged(key, rev), nil
}

// maxAttempts bounds the re-reads when a placement target changed between
// the check and the commit.
const maxAttempts = 3

// commitPlaced commits ops under conds, re-running build when a placed-on
// machine changed meanwhile (build re-reads and re-checks it).
func (g *guardian) commitPlaced(ctx context.Context, build func() ([]store.Cond, []store.Op, *ent.Model, error), conflict func() error) (*ent.Model, error) {
	for attempt := 1; ; attempt++ {
		conds, ops, next, err := build()
		if err != nil {
			return nil, err
		}
		_, err = g.cfg.Store.CommitIf(ctx, conds, ops...)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
		if cerr := conflict(); cerr != nil {
			return nil, cerr
		}
		if attempt == maxAttempts {
			return nil, fmt.Errorf("the target machines kept changing; try again: %w", err)
		}
	}
}

func (g *guardian) addMachines(m *AddMachines) (*MachinesAdded, error) {
	if g.model.Life != ent.Alive {
		return nil, fmt.Errorf("model %q is %s", g.model.Name, g.model.Life)
	}
	if m.N < 1 {
		return nil, fmt.Errorf("-n must be a positive integer, got %d", m.N)
	}
	now := time.Now()
	next := *g.model
	var ops []store.Op
	res := &MachinesAdded{}
	for i := 0; i < m.N; i++ {
		id := fmt.Sprint(next.NextMachine)
		next.NextMachine++
		mc := newMachine(id, DefaultBaseName, DefaultBaseChannel, now)
		mc.Standalone = true
		op, err := store.Put(ent.MachineKey(g.cfg.UUID, id), mc)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
		res.Machines = append(res.Machines, id)
	}
	mop, err := store.Put(ent.ModelKey(g.cfg.UUID), &next)
	if err != nil {
		return nil, err
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.cfg.Store.Commit(c, append(ops, mop)...); err != nil {
		return nil, fmt.Errorf("cannot add machines: %w", err)
	}
	g.model = &next
	return res, nil
}

// Base of machines added without a unit.
const (
	DefaultBaseName    = "ubuntu"
	DefaultBaseChannel = "22.04"
)

func (g *guardian) setConfig(m *SetConfig) error {
	settings, err := modelconfig.Apply(g.model.Config, m.Values, m.Reset)
	if err != nil {
		return err
	}
	next := *g.model
	next.Config = settings
	if len(next.Config) == 0 {
		next.Config = nil
	}
	op, err := store.Put(ent.ModelKey(g.cfg.UUID), &next)
	if err != nil {
		return err
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.cfg.Store.Commit(c, op); err != nil {
		return fmt.Errorf("cannot record model config: %w", err)
	}
	g.model = &next
	return nil
}

func (g *guardian) addUnits(m *AddUnits) (*UnitsAdded, error) {
	if m.NumUnits < 1 {
		return nil, fmt.Errorf("--num-units must be a positive integer, got %d", m.NumUnits)
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var app ent.Application
	appKey := ent.ApplicationKey(g.cfg.UUID, m.App)
	if _, err := g.cfg.Store.Get(c, appKey, &app); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("application %q not found in model %q", m.App, g.model.Name)
		}
		return nil, err
	}
	if app.Life != ent.Alive {
		return nil, fmt.Errorf("application %q is %s", m.App, app.Life)
	}
	var placed placement
	next, err := g.commitPlaced(c, func() ([]store.Cond, []store.Op, *ent.Model, error) {
		next := *g.model
		var err error
		if placed, err = g.place(c, &next, app.Name, app.BaseName, app.BaseChannel, m.NumUnits, m.To, time.Now()); err != nil {
			return nil, nil, nil, err
		}
		mop, err := store.Put(ent.ModelKey(g.cfg.UUID), &next)
		if err != nil {
			return nil, nil, nil, err
		}
		return placed.conds, append(placed.ops, mop), &next, nil
	}, func() error { return nil })
	if err != nil {
		return nil, fmt.Errorf("cannot add units: %w", err)
	}
	g.model = next
	return &UnitsAdded{Units: placed.units}, nil
}

// ErrExists is returned when deploying an application name already in use.
var ErrExists = errors.New("already exists")

func (g *guardian) deploy(m *Deploy) (*Deployed, error) {
	if g.model.Life != ent.Alive {
		return nil, fmt.Errorf("model %q is %s", g.model.Name, g.model.Life)
	}
	if !ent.ValidApplicationName(m.App.Name) {
		return nil, fmt.Errorf("invalid application name %q: use lowercase letters, digits and hyphens, starting with a letter", m.App.Name)
	}
	if m.NumUnits < 0 {
		return nil, fmt.Errorf("invalid number of units %d", m.NumUnits)
	}
	now := time.Now()
	next := *g.model
	next.CharmRevisions = map[string]int{}
	for k, v := range g.model.CharmRevisions {
		next.CharmRevisions[k] = v
	}
	rev := next.CharmRevisions[m.Charm.Name]
	next.CharmRevisions[m.Charm.Name] = rev + 1
	ch := m.Charm
	ch.Revision = rev
	ch.URL = fmt.Sprintf("local:%s-%d", ch.Name, rev)

	app := m.App
	app.CharmURL, app.CharmName, app.CharmRev, app.CharmSHA256 = ch.URL, ch.Name, rev, ch.SHA256
	app.CharmVersion = ch.Version
	app.Life = ent.Alive

	appKey := ent.ApplicationKey(g.cfg.UUID, app.Name)
	res := &Deployed{Application: app.Name, CharmURL: ch.URL}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exists := fmt.Errorf("application %q %w in model %q: choose another name with `troupe deploy <charm> <name>`", app.Name, ErrExists, g.model.Name)
	model, err := g.commitPlaced(c, func() ([]store.Cond, []store.Op, *ent.Model, error) {
		next := next
		placed, err := g.place(c, &next, app.Name, app.BaseName, app.BaseChannel, m.NumUnits, m.To, now)
		if err != nil {
			return nil, nil, nil, err
		}
		ops := placed.ops
		for _, kv := range []struct {
			key string
			v   any
		}{{ent.ModelKey(g.cfg.UUID), &next}, {ent.CharmKey(g.cfg.UUID, ch.URL), &ch}, {appKey, &app}} {
			op, err := store.Put(kv.key, kv.v)
			if err != nil {
				return nil, nil, nil, err
			}
			ops = append(ops, op)
		}
		res.Units, res.Machines = placed.units, placed.machines
		return append([]store.Cond{store.Absent(appKey)}, placed.conds...), ops, &next, nil
	}, func() error {
		var a ent.Application
		if _, err := g.cfg.Store.Get(c, appKey, &a); err == nil {
			return exists
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) && len(m.To) == 0 {
		return nil, exists
	}
	if err != nil {
		if errors.Is(err, ErrExists) {
			return nil, err
		}
		return nil, fmt.Errorf("cannot record deployment: %w", err)
	}
	g.model = model
	return res, nil
}

// Placement turns `--to` directives for n units into machine ids, one per
// unit placed (fewer than n leaves the rest to new machines). Only an
// existing machine id is supported; containers, zones and hosts are
// refused with what to use instead.
func Placement(to []string, n int) ([]string, error) {
	if len(to) > n {
		return nil, fmt.Errorf("--to gives %d placements for %d units; give at most one per unit", len(to), n)
	}
	out := make([]string, 0, len(to))
	for _, d := range to {
		d = strings.TrimSpace(d)
		switch {
		case d == "":
			return nil, errors.New("empty placement in --to; give machine ids such as --to 0,1")
		case isMachineID(d):
			out = append(out, d)
		case strings.Contains(d, ":") || d == "lxd" || d == "kvm":
			return nil, fmt.Errorf("placement %q is not supported yet: containers are not available; give an existing machine id such as --to 0", d)
		default:
			return nil, fmt.Errorf("placement %q is not supported yet: give an existing machine id such as --to 0 (see `troupe status`)", d)
		}
	}
	return out, nil
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
