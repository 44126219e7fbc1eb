package model

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/supervise"
	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// RecordCharm records an uploaded charm under the next local revision of
// its name (`troupe refresh`); the application actor then switches to it
// (application.SetCharm). A charm recorded for a refresh that then fails
// is an unused revision, as in Juju.
type RecordCharm struct {
	Charm ent.Charm // Name, SHA256, Size, Version set by the caller
}

// CharmRecorded answers RecordCharm.
type CharmRecorded struct{ Charm ent.Charm }

// AddPeers creates a peer relation for each of Endpoints (of one alive
// application) that has none yet; existing ones are left alone, so a
// repeated AddPeers changes nothing.
type AddPeers struct {
	Endpoints []ent.Endpoint
}

// PeersAdded answers AddPeers with the ids of the relations created.
type PeersAdded struct{ IDs []int }

func (g *guardian) recordCharm(m *RecordCharm) (*CharmRecorded, error) {
	if g.model.Life != ent.Alive {
		return nil, fmt.Errorf("model %q is %s", g.model.Name, g.model.Life)
	}
	next := *g.model
	next.CharmRevisions = map[string]int{}
	for k, v := range g.model.CharmRevisions {
		next.CharmRevisions[k] = v
	}
	ch := m.Charm
	ch.Revision = next.CharmRevisions[ch.Name]
	next.CharmRevisions[ch.Name] = ch.Revision + 1
	ch.URL = fmt.Sprintf("local:%s-%d", ch.Name, ch.Revision)
	var ops []store.Op
	for _, kv := range []struct {
		key string
		v   any
	}{{ent.CharmKey(g.cfg.UUID, ch.URL), &ch}, {ent.ModelKey(g.cfg.UUID), &next}} {
		op, err := store.Put(kv.key, kv.v)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.cfg.Store.Commit(c, ops...); err != nil {
		return nil, fmt.Errorf("cannot record charm %s: %w", ch.URL, err)
	}
	g.model = &next
	return &CharmRecorded{Charm: ch}, nil
}

func (g *guardian) addPeers(m *AddPeers) (*PeersAdded, error) {
	if g.model.Life != ent.Alive {
		return nil, fmt.Errorf("model %q is %s", g.model.Name, g.model.Life)
	}
	res := &PeersAdded{}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, ep := range m.Endpoints {
		var app ent.Application
		if _, err := g.cfg.Store.Get(c, ent.ApplicationKey(g.cfg.UUID, ep.Application), &app); err != nil {
			return nil, fmt.Errorf("cannot add peer relation %s: %w", ep, err)
		}
		if app.Life != ent.Alive {
			return nil, fmt.Errorf("cannot add peer relation %s: application %q is %s", ep, ep.Application, app.Life)
		}
		next := *g.model
		rel := ent.Relation{ID: next.NextRelation, Endpoints: []ent.Endpoint{ep}, Life: ent.Alive}
		rel.Key = ent.RelationKeyOf(rel.Endpoints)
		next.NextRelation++
		idx := ent.RelationIndexKey(g.cfg.UUID, rel.Key)
		var ops []store.Op
		for _, kv := range []struct {
			key string
			v   any
		}{{ent.RelationKey(g.cfg.UUID, rel.ID), &rel}, {idx, rel.ID}, {ent.ModelKey(g.cfg.UUID), &next}} {
			op, err := store.Put(kv.key, kv.v)
			if err != nil {
				return nil, err
			}
			ops = append(ops, op)
		}
		_, err := g.cfg.Store.CommitIf(c, []store.Cond{store.Absent(idx)}, ops...)
		if errors.Is(err, store.ErrConflict) {
			continue // exists already
		}
		if err != nil {
			return nil, fmt.Errorf("cannot record peer relation %s: %w", ep, err)
		}
		g.model = &next
		res.IDs = append(res.IDs, rel.ID)
	}
	return res, nil
}

// respond answers the sender with res, or a supervise.Failure for err.
func respond[R any](ctx actor.Context, res R, err error) {
	if err != nil {
		ctx.Respond(&supervise.Failure{Err: err})
		return
	}
	ctx.Respond(res)
}
