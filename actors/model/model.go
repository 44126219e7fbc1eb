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
//	API ──EnqueueOperation────▶ guardian (one txn: model+operation+tasks+pending markers)
package model

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/application"
	"github.com/troupe-dev/troupe/actors/entity"
	"github.com/troupe-dev/troupe/actors/machine"
	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/actors/secret"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/actors/task"
	"github.com/troupe-dev/troupe/actors/unit"
	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/modelconfig"
	"github.com/troupe-dev/troupe/internal/statushistory"
	"github.com/troupe-dev/troupe/internal/store"
)

// Entity kinds a Route can address.
const (
	KindApplication = "application"
	KindUnit        = "unit"
	KindMachine     = "machine"
	KindRelation    = "relation"
	KindTask        = "task"
	KindSecret      = "secret"
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
	// Peers are the charm's peer endpoints; one relation is created for
	// each, in the same transaction as the application.
	Peers []ent.Endpoint
}

// AddRelation creates a relation between two application endpoints
// (already matched by relation.Match). The guardian checks that both
// applications are alive, that the relation does not exist yet and that
// neither endpoint's limit is exceeded.
type AddRelation struct {
	Endpoints [2]ent.Endpoint
	// Remote, when set, makes it a cross-model relation (cmr.go): the
	// endpoint of Remote.Link.Alias is a consumed offer's.
	Remote *RemoteEnd
}

// RelationAdded answers AddRelation.
type RelationAdded struct {
	ID  int
	Key string
}

// AddUnits adds N units of an alive application, placed as Deploy's.
type AddUnits struct {
	App      string
	NumUnits int
	To       []string
}

// AddMachines adds N empty, standalone machines (`troupe add-machine`)
// with Constraints (typed, validated by the caller).
type AddMachines struct {
	N           int
	Constraints map[string]any
}

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

// EnqueueOperation creates an operation running Action on each unit of
// Tasks, with one task per unit, all pending. The caller has validated the
// params against the charm's schema.
type EnqueueOperation struct {
	Action string
	Tasks  []TaskSpec
}

// TaskSpec is one task of EnqueueOperation.
type TaskSpec struct {
	Unit   string
	Params map[string]any
}

// OperationEnqueued answers EnqueueOperation; Tasks are in the order of
// the request.
type OperationEnqueued struct {
	Operation ent.Operation
	Tasks     []ent.Task
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
	// BeforeHandle, when set, is called by every entity actor of the model
	// (in the actor's goroutine) before it handles a request; a panic there
	// is a handler panic. Fault-injection tests use it; nil in production.
	BeforeHandle func(kind, id string, msg any)
	// ParkCoolOff is how long a parked entity refuses every request before
	// the guardian lets the next one start it afresh (a new restart
	// budget). Zero means one minute.
	ParkCoolOff time.Duration
}

type guardian struct {
	cfg      Config
	model    *ent.Model                  // owned by the actor goroutine
	children map[string]*actor.PID       // kind/id -> live actor
	parked   map[string]ent.ParkedEntity // kind/id -> why; mirrored in the model document
}

// Props returns the guardian's props.
func Props(cfg Config) *actor.Props {
	return supervise.WithMailbox(cfg.Strategy, "model", actor.PropsFromProducer(func() actor.Actor {
		return &guardian{cfg: cfg}
	}, actor.WithSupervisor(cfg.Strategy)))
}

func (g *guardian) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		g.children = map[string]*actor.PID{}
		var doc ent.Model
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := g.cfg.Store.Get(c, ent.ModelKey(g.cfg.UUID), &doc); err != nil {
			panic(fmt.Sprintf("cannot load model %s: %v", g.cfg.UUID, err))
		}
		g.model = &doc
		g.parked = maps.Clone(doc.Parked)
		if g.parked == nil {
			g.parked = map[string]ent.ParkedEntity{}
		}
	case *actor.Terminated:
		for k, pid := range g.children {
			if pid.Equal(m.Who) {
				delete(g.children, k)
			}
		}
	case *supervise.Parked:
		g.park(m.Child, m.Reason)
	case *SetConstraints:
		res, err := g.setConstraints(m)
		respond(ctx, res, err)
	case *UpdateSSHKeys:
		res, err := g.updateSSHKeys(m)
		respond(ctx, res, err)
	case *Destroy:
		res, err := g.destroy()
		respond(ctx, res, err)
	case *Deploy:
		if err := g.errDying(); err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		res, err := g.deploy(m)
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		ctx.Respond(res)
	case *AddUnits:
		if err := g.errDying(); err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		res, err := g.addUnits(m)
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		ctx.Respond(res)
	case *AddRelation:
		res, err := g.addRelation(m)
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		ctx.Respond(res)
	case *AddMachines:
		if err := g.errDying(); err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		res, err := g.addMachines(m)
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		ctx.Respond(res)
	case *EnqueueOperation:
		res, err := g.enqueue(m, time.Now())
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
	case *RecordCharm:
		res, err := g.recordCharm(m)
		respond(ctx, res, err)
	case *AddPeers:
		res, err := g.addPeers(m)
		respond(ctx, res, err)
	case *AddSubordinate:
		res, err := g.addSubordinate(m)
		respond(ctx, res, err)
	case *AttachStorage:
		res, err := g.attachStorage(m)
		respond(ctx, res, err)
	case *AddStorage:
		res, err := g.addStorage(m)
		respond(ctx, res, err)
	case *ReleaseStorage:
		res, err := g.releaseStorage(m)
		respond(ctx, res, err)
	case *Route:
		g.route(ctx, m)
	default:
		if res, err, ok := g.handleCMR(m); ok {
			respond(ctx, res, err)
		}
	}
}

// HandleFailure implements actor.SupervisorStrategy: the guardian
// supervises its entities itself so that a parking is recorded on its own
// goroutine, before the child's Terminated (a system message, which
// overtakes queued user messages) can drop the child from g.children and
// before the failing caller hears back.
func (g *guardian) HandleFailure(system *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, message any) {
	if s, ok := g.cfg.Strategy.(*supervise.Strategy); ok {
		s.Handle(system, sup, child, rs, reason, message, g.park)
		return
	}
	strategy := g.cfg.Strategy
	if strategy == nil {
		strategy = &supervise.Strategy{Logger: g.cfg.Logger}
	}
	strategy.HandleFailure(system, sup, child, rs, reason, message)
}

// park records child as parked with reason and forgets its pid, so the
// next request to it is refused until the cool-off.
func (g *guardian) park(child *actor.PID, reason string) {
	for k, pid := range g.children {
		if pid.Equal(child) {
			delete(g.children, k)
			g.parked[k] = ent.ParkedEntity{Reason: reason, Since: time.Now()}
			g.logger().Error("entity parked", "model", g.model.Name, "entity", k, "reason", reason)
			g.saveParked()
		}
	}
}

func (g *guardian) logger() *slog.Logger {
	if g.cfg.Logger != nil {
		return g.cfg.Logger
	}
	return slog.Default()
}

// ErrParked is returned for requests to a parked entity.
var ErrParked = errors.New("parked in error after repeated failures")

func (g *guardian) parkCoolOff() time.Duration {
	if g.cfg.ParkCoolOff == 0 {
		return time.Minute
	}
	return g.cfg.ParkCoolOff
}

// saveParked mirrors the parked set into the model document, so status
// shows it and it survives a controller restart. A failed write is
// logged: the in-memory set still protects the entity, and the next
// change retries the write.
func (g *guardian) saveParked() {
	next := *g.model
	next.Parked = maps.Clone(g.parked)
	if len(next.Parked) == 0 {
		next.Parked = nil
	}
	op, err := store.Put(ent.ModelKey(g.cfg.UUID), &next)
	if err == nil {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = g.cfg.Store.Commit(c, op)
		cancel()
	}
	if err != nil {
		g.logger().Error("cannot record parked entities", "model", g.model.Name, "err", err)
		return
	}
	g.model = &next
}

func (g *guardian) route(ctx actor.Context, m *Route) {
	key := m.Kind + "/" + m.ID
	if p, ok := g.parked[key]; ok {
		if time.Since(p.Since) < g.parkCoolOff() {
			ctx.Respond(&supervise.Failure{Err: fmt.Errorf("%s %s is %w: %s", m.Kind, m.ID, ErrParked, p.Reason)})
			return
		}
		// The guardian's decision: after the cool-off the entity gets a
		// fresh start; if it fails as before it is parked again.
		delete(g.parked, key)
		g.logger().Info("restarting parked entity after cool-off", "model", g.model.Name, "entity", key)
		g.saveParked()
	}
	pid, ok := g.children[key]
	if !ok {
		props, err := g.entityProps(m.Kind, m.ID, nil)
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		pid = ctx.Spawn(supervise.WithMailbox(g.cfg.Strategy, m.Kind, props))
		g.children[key] = pid
	}
	ctx.RequestWithCustomSender(pid, m.Msg, ctx.Sender())
}

func (g *guardian) entityProps(kind, id string, initial any) (*actor.Props, error) {
	switch kind {
	case KindApplication:
		cfg := entity.Config[ent.Application]{Store: g.cfg.Store, Key: ent.ApplicationKey(g.cfg.UUID, id), Handle: application.Handle}
		cfg.BeforeHandle = g.hook(kind, id)
		if initial != nil {
			cfg.Initial = initial.(*ent.Application)
		}
		return entity.Props(cfg), nil
	case KindUnit:
		cfg := entity.Config[ent.Unit]{Store: g.cfg.Store, Key: ent.UnitKey(g.cfg.UUID, id), Handle: unit.Handle,
			Extra: unit.Extra(g.cfg.UUID)}
		cfg.BeforeHandle = g.hook(kind, id)
		if initial != nil {
			cfg.Initial = initial.(*ent.Unit)
		}
		return entity.Props(cfg), nil
	case KindTask:
		cfg := entity.Config[ent.Task]{Store: g.cfg.Store, Key: ent.TaskKey(g.cfg.UUID, id), Handle: task.Handle,
			Extra: task.Extra(g.cfg.UUID)}
		cfg.BeforeHandle = g.hook(kind, id)
		if initial != nil {
			cfg.Initial = initial.(*ent.Task)
		}
		return entity.Props(cfg), nil
	case KindMachine:
		cfg := entity.Config[ent.Machine]{Store: g.cfg.Store, Key: ent.MachineKey(g.cfg.UUID, id), Handle: machine.Handle,
			Extra: machine.Extra(g.cfg.UUID)}
		cfg.BeforeHandle = g.hook(kind, id)
		if initial != nil {
			cfg.Initial = initial.(*ent.Machine)
		}
		return entity.Props(cfg), nil
	case KindRelation:
		n, err := strconv.Atoi(id)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid relation id %q", id)
		}
		return relation.Props(relation.Config{Store: g.cfg.Store, Model: g.cfg.UUID, ID: n, BeforeHandle: g.hook(kind, id)}), nil
	case KindSecret:
		return secret.Props(secret.Config{Store: g.cfg.Store, Model: g.cfg.UUID, ID: id}), nil
	}
	return nil, fmt.Errorf("unknown entity kind %q", kind)
}

// hook binds BeforeHandle to one entity; nil when unset.
func (g *guardian) hook(kind, id string) func(any) {
	if g.cfg.BeforeHandle == nil {
		return nil
	}
	return func(msg any) { g.cfg.BeforeHandle(kind, id, msg) }
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
//
// A new machine starts with the application's constraints cons.
func (g *guardian) place(ctx context.Context, next *ent.Model, app, baseName, baseChannel string, cons map[string]any, n int, to []string, storage map[string]ent.StorageDirective, now time.Time) (placement, error) {
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
			mc.Constraints = cons
			hist, err := statushistory.NewMachine(g.cfg.UUID, mc)
			if err != nil {
				return p, err
			}
			op, err := store.Put(ent.MachineKey(g.cfg.UUID, mid), mc)
			if err != nil {
				return p, err
			}
			p.ops = append(append(p.ops, op), hist...)
		}
		num := next.NextUnits[app]
		next.NextUnits[app]++
		u := &ent.Unit{Name: ent.UnitName(app, num), Application: app, Machine: mid, Life: ent.Alive,
			Workload: ent.Status{Current: "waiting", Message: "waiting for machine", Since: now},
			Agent:    ent.Status{Current: "allocating", Since: now}}
		hist, err := statushistory.NewUnit(g.cfg.UUID, u)
		if err != nil {
			return p, err
		}
		op, err := store.Put(ent.UnitKey(g.cfg.UUID, u.Name), u)
		if err != nil {
			return p, err
		}
		p.ops = append(append(p.ops, op), hist...)
		sops, err := g.newStorage(next, u.Name, mid, storage, "", now) // storage.go
		if err != nil {
			return p, err
		}
		p.ops = append(p.ops, sops...)
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
		mc.Constraints = m.Constraints
		hist, err := statushistory.NewMachine(g.cfg.UUID, mc)
		if err != nil {
			return nil, err
		}
		op, err := store.Put(ent.MachineKey(g.cfg.UUID, id), mc)
		if err != nil {
			return nil, err
		}
		ops = append(append(ops, op), hist...)
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
		if placed, err = g.place(c, &next, app.Name, app.BaseName, app.BaseChannel, app.Constraints, m.NumUnits, m.To, app.Storage, time.Now()); err != nil {
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
		placed, err := g.place(c, &next, app.Name, app.BaseName, app.BaseChannel, app.Constraints, m.NumUnits, m.To, app.Storage, now)
		if err != nil {
			return nil, nil, nil, err
		}
		ops := placed.ops
		for _, kv := range []struct {
			key string
			v   any
		}{{ent.CharmKey(g.cfg.UUID, ch.URL), &ch}, {appKey, &app}} {
			op, err := store.Put(kv.key, kv.v)
			if err != nil {
				return nil, nil, nil, err
			}
			ops = append(ops, op)
		}
		conds := append([]store.Cond{store.Absent(appKey)}, placed.conds...)
		for _, peer := range m.Peers {
			peer.Application = app.Name
			rel := ent.Relation{ID: next.NextRelation, Endpoints: []ent.Endpoint{peer}, Life: ent.Alive}
			rel.Key = ent.RelationKeyOf(rel.Endpoints)
			next.NextRelation++
			idx := ent.RelationIndexKey(g.cfg.UUID, rel.Key)
			conds = append(conds, store.Absent(idx))
			for _, kv := range []struct {
				key string
				v   any
			}{{ent.RelationKey(g.cfg.UUID, rel.ID), &rel}, {idx, rel.ID}} {
				op, err := store.Put(kv.key, kv.v)
				if err != nil {
					return nil, nil, nil, err
				}
				ops = append(ops, op)
			}
		}
		mop, err := store.Put(ent.ModelKey(g.cfg.UUID), &next)
		if err != nil {
			return nil, nil, nil, err
		}
		ops = append(ops, mop)
		res.Units, res.Machines = placed.units, placed.machines
		return conds, ops, &next, nil
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

// addRelation validates and records a new relation in one fenced
// transaction: the relation document, its index entry (so the same
// relation cannot be added twice, even by racing calls) and the model's
// relation counter.
func (g *guardian) addRelation(m *AddRelation) (*RelationAdded, error) {
	if g.model.Life != ent.Alive {
		return nil, fmt.Errorf("model %q is %s", g.model.Name, g.model.Life)
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var conds []store.Cond
	for _, ep := range m.Endpoints {
		if m.Remote != nil && ep.Application == m.Remote.Link.Alias {
			if err := g.remoteEndpointApp(c, ep.Application); err != nil {
				return nil, err
			}
			continue
		}
		var app ent.Application
		key := ent.ApplicationKey(g.cfg.UUID, ep.Application)
		_, err := g.cfg.Store.Get(c, key, &app)
		if errors.Is(err, store.ErrNotFound) || err == nil && app.Life == ent.Dead {
			return nil, fmt.Errorf("application %q not found in model %q", ep.Application, g.model.Name)
		}
		if err != nil {
			return nil, err
		}
		if app.Life != ent.Alive {
			return nil, fmt.Errorf("cannot relate %s: application %q is %s", ep, ep.Application, app.Life)
		}
	}
	rel := ent.Relation{ID: g.model.NextRelation, Endpoints: m.Endpoints[:], Life: ent.Alive}
	rel.Key = ent.RelationKeyOf(rel.Endpoints)
	if m.Remote != nil {
		rel.Remote = &ent.RemoteRelation{OfferModel: m.Remote.OfferModel, LinkID: m.Remote.Link.ID}
	}
	kvs, _, err := g.cfg.Store.List(c, ent.RelationsPrefix(g.cfg.UUID))
	if err != nil {
		return nil, err
	}
	var existing []ent.Relation
	for _, kv := range kvs {
		var r ent.Relation
		if err := store.Decode(kv, &r); err != nil {
			return nil, err
		}
		existing = append(existing, r)
	}
	if err := CheckNewRelation(rel, existing); err != nil {
		return nil, err
	}
	next := *g.model
	next.NextRelation++
	idx := ent.RelationIndexKey(g.cfg.UUID, rel.Key)
	conds = append(conds, store.Absent(idx))
	var ops []store.Op
	puts := []struct {
		key string
		v   any
	}{{ent.RelationKey(g.cfg.UUID, rel.ID), &rel}, {idx, rel.ID}, {ent.ModelKey(g.cfg.UUID), &next}}
	if m.Remote != nil {
		link := m.Remote.Link
		link.ConsumerModel, link.RelationID = g.cfg.UUID, rel.ID
		lkey := ent.RelationLinkKey(m.Remote.OfferModel, link.ID)
		conds = append(conds, store.Absent(lkey))
		puts = append(puts, struct {
			key string
			v   any
		}{lkey, &link})
	}
	for _, kv := range puts {
		op, err := store.Put(kv.key, kv.v)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	if _, err := g.cfg.Store.CommitIf(c, conds, ops...); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("cannot add relation %q: relation %s already exists", rel.Key, rel.Key)
		}
		return nil, fmt.Errorf("cannot record relation: %w", err)
	}
	g.model = &next
	return &RelationAdded{ID: rel.ID, Key: rel.Key}, nil
}

// CheckNewRelation is the pure check of a new relation against the
// model's existing ones: not a duplicate, and no endpoint past its limit.
func CheckNewRelation(rel ent.Relation, existing []ent.Relation) error {
	for _, r := range existing {
		if r.Key == rel.Key && r.Life == ent.Alive {
			return fmt.Errorf("cannot add relation %q: relation %s already exists", rel.Key, rel.Key)
		}
	}
	for _, ep := range rel.Endpoints {
		if ep.Limit <= 0 {
			continue
		}
		n := 0
		for _, r := range existing {
			if r.Life != ent.Alive {
				continue
			}
			for _, e := range r.Endpoints {
				if e.Application == ep.Application && e.Name == ep.Name {
					n++
				}
			}
		}
		if n >= ep.Limit {
			return fmt.Errorf("establishing a new relation for %s would exceed its maximum relation limit of %d", ep, ep.Limit)
		}
	}
	return nil
}

// enqueue writes the operation, its tasks, their pending markers and the
// advanced id sequence in one fenced transaction.
func (g *guardian) enqueue(m *EnqueueOperation, now time.Time) (*OperationEnqueued, error) {
	if g.model.Life != ent.Alive {
		return nil, fmt.Errorf("model %q is %s", g.model.Name, g.model.Life)
	}
	if len(m.Tasks) == 0 {
		return nil, errors.New("no units to run the action on")
	}
	next := *g.model
	if next.NextActionID < 1 {
		next.NextActionID = 1
	}
	take := func() string {
		id := fmt.Sprint(next.NextActionID)
		next.NextActionID++
		return id
	}
	res := &OperationEnqueued{Operation: ent.Operation{ID: take(), Action: m.Action, Enqueued: now}}
	var ops []store.Op
	put := func(key string, v any) error {
		op, err := store.Put(key, v)
		ops = append(ops, op)
		return err
	}
	var units []string
	for _, spec := range m.Tasks {
		t := ent.Task{ID: take(), Operation: res.Operation.ID, Unit: spec.Unit, Action: m.Action,
			Params: spec.Params, Status: ent.TaskPending, Enqueued: now}
		if err := put(ent.TaskKey(g.cfg.UUID, t.ID), &t); err != nil {
			return nil, err
		}
		if err := put(ent.PendingTaskKey(g.cfg.UUID, t.Unit, t.ID), t.ID); err != nil {
			return nil, err
		}
		res.Operation.Tasks = append(res.Operation.Tasks, t.ID)
		res.Tasks = append(res.Tasks, t)
		units = append(units, ent.ReceiverTag(t.Unit))
	}
	res.Operation.Summary = fmt.Sprintf("%s run on %s", m.Action, strings.Join(units, ","))
	if err := put(ent.OperationKey(g.cfg.UUID, res.Operation.ID), &res.Operation); err != nil {
		return nil, err
	}
	if err := put(ent.ModelKey(g.cfg.UUID), &next); err != nil {
		return nil, err
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.cfg.Store.Commit(c, ops...); err != nil {
		return nil, fmt.Errorf("cannot enqueue operation: %w", err)
	}
	g.model = &next
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
