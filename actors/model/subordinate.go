package model

import (
	"context"
	"errors"
	"fmt"
	"time"

	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/statushistory"
	"github.com/troupe-dev/troupe/internal/store"
)

// AddSubordinate creates the unit of subordinate application App that
// serves Principal, on the principal's machine. At most one such unit
// exists per (principal, application): the index key
// entity.SubordinateKey is committed with it, so a repeated or racing
// AddSubordinate answers with the existing unit and changes nothing.
type AddSubordinate struct {
	App       string
	Principal string
}

// SubordinateAdded answers AddSubordinate; Created is false when the unit
// existed already.
type SubordinateAdded struct {
	Unit    string
	Created bool
}

func (g *guardian) addSubordinate(m *AddSubordinate) (*SubordinateAdded, error) {
	if g.model.Life != ent.Alive {
		return nil, fmt.Errorf("model %q is %s", g.model.Name, g.model.Life)
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	idx := ent.SubordinateKey(g.cfg.UUID, m.Principal, m.App)
	// The index names the unit made for this principal; once that unit
	// is dead (the relation was removed, then added again) a new one may
	// take its place.
	idxCond := store.Absent(idx)
	var existing string
	if irev, err := g.cfg.Store.Get(c, idx, &existing); err == nil {
		var su ent.Unit
		_, err := g.cfg.Store.Get(c, ent.UnitKey(g.cfg.UUID, existing), &su)
		if err == nil && su.Life != ent.Dead {
			return &SubordinateAdded{Unit: existing}, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		idxCond = store.Unchanged(idx, irev)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	var app ent.Application
	if _, err := g.cfg.Store.Get(c, ent.ApplicationKey(g.cfg.UUID, m.App), &app); err != nil {
		return nil, fmt.Errorf("cannot add a unit of %q: %w", m.App, err)
	}
	if !app.Subordinate || app.Life != ent.Alive {
		return nil, fmt.Errorf("cannot add a unit of %q for %s: it is not an alive subordinate application", m.App, m.Principal)
	}
	var p ent.Unit
	pkey := ent.UnitKey(g.cfg.UUID, m.Principal)
	prev, err := g.cfg.Store.Get(c, pkey, &p)
	if err != nil {
		return nil, fmt.Errorf("cannot add a unit of %q for %s: %w", m.App, m.Principal, err)
	}
	if p.Life != ent.Alive || p.Principal != "" {
		return nil, fmt.Errorf("cannot add a unit of %q for %s: the principal unit is %s", m.App, m.Principal, p.Life)
	}
	next := *g.model
	next.NextUnits = map[string]int{}
	for k, v := range g.model.NextUnits {
		next.NextUnits[k] = v
	}
	num := next.NextUnits[m.App]
	next.NextUnits[m.App]++
	now := time.Now()
	u := &ent.Unit{Name: ent.UnitName(m.App, num), Application: m.App, Machine: p.Machine, Principal: p.Name, Life: ent.Alive,
		Workload: ent.Status{Current: "waiting", Message: "agent initialising", Since: now},
		Agent:    ent.Status{Current: "allocating", Since: now}}
	ops, err := statushistory.NewUnit(g.cfg.UUID, u)
	if err != nil {
		return nil, err
	}
	for _, kv := range []struct {
		key string
		v   any
	}{{ent.UnitKey(g.cfg.UUID, u.Name), u}, {idx, u.Name}, {ent.ModelKey(g.cfg.UUID), &next}} {
		op, err := store.Put(kv.key, kv.v)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	// The principal must still be as read (alive, on that machine).
	conds := []store.Cond{idxCond, store.Unchanged(pkey, prev)}
	if _, err := g.cfg.Store.CommitIf(c, conds, ops...); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("cannot add a unit of %q for %s: the principal changed meanwhile; retrying later: %w", m.App, m.Principal, err)
		}
		return nil, fmt.Errorf("cannot record unit %s: %w", u.Name, err)
	}
	g.model = &next
	return &SubordinateAdded{Unit: u.Name, Created: true}, nil
}
