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
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/application"
	"github.com/troupe-dev/troupe/actors/entity"
	"github.com/troupe-dev/troupe/actors/machine"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/actors/unit"
	ent "github.com/troupe-dev/troupe/internal/entity"
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

// Deploy creates an application with NumUnits units, each on a new
// machine, and records the charm under the next local revision.
type Deploy struct {
	Charm    ent.Charm       // Name, SHA256, Size, Version set by the caller
	App      ent.Application // Name, settings, base set by the caller
	NumUnits int
}

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
	app.NextUnit = m.NumUnits

	appKey := ent.ApplicationKey(g.cfg.UUID, app.Name)
	var ops []store.Op
	add := func(key string, v any) error {
		op, err := store.Put(key, v)
		ops = append(ops, op)
		return err
	}
	res := &Deployed{Application: app.Name, CharmURL: ch.URL}
	var units []*ent.Unit
	var machines []*ent.Machine
	for i := 0; i < m.NumUnits; i++ {
		mid := fmt.Sprint(next.NextMachine)
		next.NextMachine++
		mc := &ent.Machine{ID: mid, Life: ent.Alive, BaseName: app.BaseName, BaseChannel: app.BaseChannel,
			Agent: ent.Status{Current: "pending", Since: now}, Instance: ent.Status{Current: "pending", Since: now}}
		u := &ent.Unit{Name: ent.UnitName(app.Name, i), Application: app.Name, Machine: mid, Life: ent.Alive,
			Workload: ent.Status{Current: "waiting", Message: "waiting for machine", Since: now},
			Agent:    ent.Status{Current: "allocating", Since: now}}
		machines = append(machines, mc)
		units = append(units, u)
		res.Units = append(res.Units, u.Name)
		res.Machines = append(res.Machines, mid)
		if err := add(ent.MachineKey(g.cfg.UUID, mid), mc); err != nil {
			return nil, err
		}
		if err := add(ent.UnitKey(g.cfg.UUID, u.Name), u); err != nil {
			return nil, err
		}
	}
	for _, kv := range []struct {
		key string
		v   any
	}{{ent.ModelKey(g.cfg.UUID), &next}, {ent.CharmKey(g.cfg.UUID, ch.URL), &ch}, {appKey, &app}} {
		if err := add(kv.key, kv.v); err != nil {
			return nil, err
		}
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.cfg.Store.CommitIf(c, []store.Cond{store.Absent(appKey)}, ops...); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("application %q %w in model %q: choose another name with `troupe deploy <charm> <name>`", app.Name, ErrExists, g.model.Name)
		}
		return nil, fmt.Errorf("cannot record deployment: %w", err)
	}
	g.model = &next
	return res, nil
}
