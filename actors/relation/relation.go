// Package relation is the relation actor: the single writer of one
// relation's document and of its data bags (each unit's membership and
// settings, each application's settings), so every change to a relation
// is one fenced store transaction decided by one pure function.
//
//	guardian AddRelation (one txn: relation doc + index + model counter)
//	        │
//	        ▼
//	alive ──Destroy──▶ dying ──last unit LeaveScope──▶ removed (all keys deleted)
//	  │  EnterScope / LeaveScope / UpdateSettings
//	  ▼
//	RelationUnit{in-scope, settings, version}, RelationApp{settings, version}
//
// Versions count changes: a write that changes nothing bumps nothing, so
// re-applying a hook's commit after an agent crash is harmless
// (idempotent), and a -changed hook fires only for a real change.
//
// Who imports it: the model guardian (which spawns it) and the API server
// (for its messages and Match). It does no IO except its own persist.
package relation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	actorentity "github.com/troupe-dev/troupe/actors/entity"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// EnterScope puts Unit in the relation's scope, merging Settings (the
// automatic keys such as private-address) into its bag.
type EnterScope struct {
	Unit     string
	Settings map[string]string
}

// LeaveScope takes Unit out of the relation's scope.
type LeaveScope struct{ Unit string }

// UpdateSettings merges a hook's committed relation writes: Unit's own bag
// and, when App is set (the caller checked leadership), App's bag. An
// empty value deletes a key.
type UpdateSettings struct {
	Unit        string
	UnitChanges map[string]string
	App         string
	AppChanges  map[string]string
}

// Destroy makes the relation dying; it is removed once no unit is in scope.
type Destroy struct{}

// Done acknowledges a command. Removed is true when the relation is gone.
type Done struct{ Removed bool }

// ErrNotAlive is returned when a unit tries to enter a dying relation.
var ErrNotAlive = errors.New("relation is not alive")

// ErrNotInScope is returned when a unit writes to a relation it is not in.
var ErrNotInScope = errors.New("unit is not in scope of the relation")

// State is everything the actor owns.
type State struct {
	Relation entity.Relation
	Units    map[string]*entity.RelationUnit
	Apps     map[string]*entity.RelationApp
}

// Effects names what a decision changed, so the actor writes just that.
type Effects struct {
	Relation bool     // the relation document changed
	Units    []string // unit bags that changed
	Apps     []string // application bags that changed
	Remove   bool     // the relation is gone: delete every key
}

func (e Effects) empty() bool {
	return !e.Relation && len(e.Units) == 0 && len(e.Apps) == 0 && !e.Remove
}

func (s *State) clone() *State {
	c := &State{Relation: s.Relation, Units: map[string]*entity.RelationUnit{}, Apps: map[string]*entity.RelationApp{}}
	c.Relation.Endpoints = append([]entity.Endpoint(nil), s.Relation.Endpoints...)
	for k, u := range s.Units {
		cu := *u
		cu.Settings = maps.Clone(u.Settings)
		c.Units[k] = &cu
	}
	for k, a := range s.Apps {
		ca := *a
		ca.Settings = maps.Clone(a.Settings)
		c.Apps[k] = &ca
	}
	return c
}

func (s *State) inScope() int {
	n := 0
	for _, u := range s.Units {
		if u.InScope {
			n++
		}
	}
	return n
}

// merge applies changes to bag (empty value deletes) and reports whether
// anything changed.
func merge(bag *map[string]string, changes map[string]string) bool {
	changed := false
	for k, v := range changes {
		old, had := (*bag)[k]
		switch {
		case v == "" && had:
			delete(*bag, k)
			changed = true
		case v != "" && (!had || old != v):
			if *bag == nil {
				*bag = map[string]string{}
			}
			(*bag)[k] = v
			changed = true
		}
	}
	return changed
}

func (s *State) member(unit string) error {
	app, _, ok := entity.SplitUnitName(unit)
	if !ok {
		return fmt.Errorf("invalid unit name %q", unit)
	}
	if _, ok := s.Relation.Endpoint(app); !ok {
		return fmt.Errorf("unit %s is not in relation %d (%s)", unit, s.Relation.ID, s.Relation.Key)
	}
	return nil
}

// Handle decides a command. It returns the next state and what changed
// (nothing changed when next is nil), the reply, or an error. Pure.
func Handle(cur *State, msg any) (next *State, eff Effects, reply any, err error) {
	switch m := msg.(type) {
	case *EnterScope:
		if err := cur.member(m.Unit); err != nil {
			return nil, eff, nil, err
		}
		u := cur.Units[m.Unit]
		if cur.Relation.Life != entity.Alive && (u == nil || !u.InScope) {
			return nil, eff, nil, fmt.Errorf("cannot enter scope of relation %d (%s): %w", cur.Relation.ID, cur.Relation.Key, ErrNotAlive)
		}
		next = cur.clone()
		nu := next.Units[m.Unit]
		if nu == nil {
			nu = &entity.RelationUnit{Relation: cur.Relation.ID, Unit: m.Unit}
			next.Units[m.Unit] = nu
		}
		changed := !nu.InScope
		nu.InScope = true
		if merge(&nu.Settings, m.Settings) {
			nu.Version++
			changed = true
		}
		if !changed {
			return nil, eff, &Done{}, nil
		}
		return next, Effects{Units: []string{m.Unit}}, &Done{}, nil
	case *LeaveScope:
		u := cur.Units[m.Unit]
		if u == nil || !u.InScope {
			return nil, eff, &Done{}, nil
		}
		next = cur.clone()
		next.Units[m.Unit].InScope = false
		if next.Relation.Life != entity.Alive && next.inScope() == 0 {
			return next, Effects{Remove: true}, &Done{Removed: true}, nil
		}
		return next, Effects{Units: []string{m.Unit}}, &Done{}, nil
	case *UpdateSettings:
		if err := cur.member(m.Unit); err != nil {
			return nil, eff, nil, err
		}
		next = cur.clone()
		if len(m.UnitChanges) > 0 {
			nu := next.Units[m.Unit]
			if nu == nil || !nu.InScope {
				return nil, eff, nil, fmt.Errorf("cannot write settings of %s in relation %d: %w", m.Unit, cur.Relation.ID, ErrNotInScope)
			}
			if merge(&nu.Settings, m.UnitChanges) {
				nu.Version++
				eff.Units = append(eff.Units, m.Unit)
			}
		}
		if len(m.AppChanges) > 0 {
			if _, ok := cur.Relation.Endpoint(m.App); !ok {
				return nil, eff, nil, fmt.Errorf("application %q is not in relation %d", m.App, cur.Relation.ID)
			}
			na := next.Apps[m.App]
			if na == nil {
				na = &entity.RelationApp{Relation: cur.Relation.ID, Application: m.App}
				next.Apps[m.App] = na
			}
			if merge(&na.Settings, m.AppChanges) {
				na.Version++
				eff.Apps = append(eff.Apps, m.App)
			}
		}
		if eff.empty() {
			return nil, eff, &Done{}, nil
		}
		return next, eff, &Done{}, nil
	case *Destroy:
		if cur.Relation.Life != entity.Alive {
			return nil, eff, &Done{}, nil
		}
		next = cur.clone()
		next.Relation.Life = entity.Dying
		if next.inScope() == 0 {
			return next, Effects{Remove: true}, &Done{Removed: true}, nil
		}
		return next, Effects{Relation: true}, &Done{}, nil
	}
	return nil, eff, nil, fmt.Errorf("relation: unexpected message %T", msg)
}

// Config configures a relation actor.
type Config struct {
	Store *store.Store
	Model string // model UUID
	ID    int
	// Initial, when set, is used instead of loading from the store, once
	// (the guardian spawns a relation it has just created).
	Initial *State
	// Timeout bounds a persist or load. Zero means 10s.
	Timeout time.Duration
	// BeforeHandle, when set, runs before each request is decided; a panic
	// there is a handler panic (fault injection in tests).
	BeforeHandle func(msg any)
}

type relationActor struct {
	cfg     Config
	state   *State // owned by the actor goroutine; nil when not found
	loadErr error  // the load failed: every request panics
}

// Props returns the actor's props.
func Props(cfg Config) *actor.Props {
	initial := cfg.Initial
	return actor.PropsFromProducer(func() actor.Actor {
		a := &relationActor{cfg: cfg}
		a.cfg.Initial = initial
		initial = nil // only the first incarnation may skip the load
		return a
	})
}

func (a *relationActor) timeout() time.Duration {
	if a.cfg.Timeout == 0 {
		return 10 * time.Second
	}
	return a.cfg.Timeout
}

// Load reads a relation's state from the store; nil when it does not exist.
func Load(ctx context.Context, st *store.Store, model string, id int) (*State, error) {
	var rel entity.Relation
	if _, err := st.Get(ctx, entity.RelationKey(model, id), &rel); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	s := &State{Relation: rel, Units: map[string]*entity.RelationUnit{}, Apps: map[string]*entity.RelationApp{}}
	if err := listInto(ctx, st, entity.RelationUnitsPrefix(model, id), func(u *entity.RelationUnit) { s.Units[u.Unit] = u }); err != nil {
		return nil, err
	}
	if err := listInto(ctx, st, entity.RelationAppsPrefix(model, id), func(a *entity.RelationApp) { s.Apps[a.Application] = a }); err != nil {
		return nil, err
	}
	return s, nil
}

func listInto[T any](ctx context.Context, st *store.Store, prefix string, add func(*T)) error {
	kvs, _, err := st.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		v := new(T)
		if err := store.Decode(kv, v); err != nil {
			return err
		}
		add(v)
	}
	return nil
}

func (a *relationActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		if a.cfg.Initial != nil {
			a.state = a.cfg.Initial
			return
		}
		c, cancel := context.WithTimeout(context.Background(), a.timeout())
		defer cancel()
		s, err := Load(c, a.cfg.Store, a.cfg.Model, a.cfg.ID)
		if err != nil {
			// The next request panics (see handle), as entity actors do.
			a.loadErr = fmt.Errorf("cannot load relation %d: %w", a.cfg.ID, err)
			return
		}
		a.state = s
	case *actor.Restarting, *actor.Stopping, *actor.Stopped, actor.SystemMessage, actor.AutoReceiveMessage:
	default:
		a.handle(ctx, msg)
	}
}

func (a *relationActor) handle(ctx actor.Context, msg any) {
	if a.loadErr != nil {
		panic(a.loadErr.Error())
	}
	if a.cfg.BeforeHandle != nil {
		a.cfg.BeforeHandle(msg)
	}
	if a.state == nil {
		ctx.Respond(&supervise.Failure{Err: fmt.Errorf("relation %d %w", a.cfg.ID, ErrNotFound)})
		return
	}
	next, eff, reply, err := Handle(a.state, msg)
	if err != nil {
		ctx.Respond(&supervise.Failure{Err: err})
		return
	}
	if next != nil && !eff.empty() {
		ops, err := a.ops(next, eff)
		if err == nil {
			c, cancel := context.WithTimeout(context.Background(), a.timeout())
			_, err = a.cfg.Store.Commit(c, ops...)
			cancel()
		}
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: fmt.Errorf("cannot persist relation %d: %w", a.cfg.ID, err)})
			return
		}
		a.state = next
		if eff.Remove {
			a.state = nil
		}
	}
	if ctx.Sender() != nil {
		ctx.Respond(reply)
	}
	if eff.Remove {
		ctx.Stop(ctx.Self())
	}
}

// ErrNotFound is returned for a relation that does not exist (any more):
// the entity actors' sentinel, so callers test one error for any entity.
var ErrNotFound = actorentity.ErrNotFound

func (a *relationActor) ops(next *State, eff Effects) ([]store.Op, error) {
	m, id := a.cfg.Model, a.cfg.ID
	if eff.Remove {
		ops := []store.Op{store.Delete(entity.RelationKey(m, id)), store.Delete(entity.RelationIndexKey(m, next.Relation.Key)),
			store.DeletePrefix(entity.RelationUnitsPrefix(m, id)), store.DeletePrefix(entity.RelationAppsPrefix(m, id))}
		if r := next.Relation.Remote; r != nil {
			// A cross-model relation's link in the offering model goes
			// with it (entity/cmr.go).
			ops = append(ops, store.Delete(entity.RelationLinkKey(r.OfferModel, r.LinkID)))
		}
		return ops, nil
	}
	var ops []store.Op
	add := func(key string, v any) error {
		op, err := store.Put(key, v)
		ops = append(ops, op)
		return err
	}
	if eff.Relation {
		if err := add(entity.RelationKey(m, id), &next.Relation); err != nil {
			return nil, err
		}
	}
	for _, u := range eff.Units {
		if err := add(entity.RelationUnitKey(m, id, u), next.Units[u]); err != nil {
			return nil, err
		}
	}
	for _, app := range eff.Apps {
		if err := add(entity.RelationAppKey(m, id, app), next.Apps[app]); err != nil {
			return nil, err
		}
	}
	return ops, nil
}
