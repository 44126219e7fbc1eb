package model

import (
	"context"
	"errors"
	"fmt"
	"time"

	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Cross-model relations (see entity/cmr.go): the guardian of the offering
// model records offers and hands out the relation ids its units see a
// consuming model's relation under; the guardian of the consuming model
// records consumed offers (SAAS) and the relations to them, with their
// links in the offering model, in one transaction.

// AddOffer records an offer of an alive application's endpoints (the API
// server checked the endpoints against the charm).
type AddOffer struct{ Offer ent.Offer }

// OfferAdded answers AddOffer.
type OfferAdded struct{ Offer ent.Offer }

// RemoveOffer deletes an offer (the API server destroyed its relations
// first, or found none).
type RemoveOffer struct{ Name string }

// OfferRemoved answers RemoveOffer.
type OfferRemoved struct{}

// AddRemoteApplication records a consumed offer under its alias.
type AddRemoteApplication struct{ App ent.RemoteApplication }

// RemoteApplicationAdded answers AddRemoteApplication.
type RemoteApplicationAdded struct{}

// RemoveRemoteApplication deletes a consumed offer (the API server
// destroyed its relations first).
type RemoveRemoteApplication struct{ Name string }

// RemoteApplicationRemoved answers RemoveRemoteApplication.
type RemoteApplicationRemoved struct{}

// ReserveRelationID allocates a relation id in this (offering) model for
// a relation of another model, so its units see it under an id that no
// relation of their own has.
type ReserveRelationID struct{}

// RelationIDReserved answers ReserveRelationID.
type RelationIDReserved struct{ ID int }

// RemoteEnd, on AddRelation, makes the relation cross-model: Link (with
// ID reserved in OfferModel) is written in the offering model with it.
type RemoteEnd struct {
	OfferModel string
	Link       ent.RelationLink
}

func (g *guardian) handleCMR(msg any) (any, error, bool) {
	switch m := msg.(type) {
	case *AddOffer:
		res, err := g.addOffer(m)
		return res, err, true
	case *RemoveOffer:
		return &OfferRemoved{}, g.deleteKey(ent.OfferKey(g.cfg.UUID, m.Name), "offer", m.Name), true
	case *AddRemoteApplication:
		res, err := g.addRemoteApplication(m)
		return res, err, true
	case *RemoveRemoteApplication:
		return &RemoteApplicationRemoved{}, g.deleteKey(ent.RemoteApplicationKey(g.cfg.UUID, m.Name), "SAAS application", m.Name), true
	case *ReserveRelationID:
		res, err := g.reserveRelationID()
		return res, err, true
	}
	return nil, nil, false
}

func (g *guardian) addOffer(m *AddOffer) (*OfferAdded, error) {
	if err := g.errDying(); err != nil {
		return nil, err
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var app ent.Application
	if _, err := g.cfg.Store.Get(c, ent.ApplicationKey(g.cfg.UUID, m.Offer.Application), &app); err != nil || app.Life != ent.Alive {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("application %q not found in model %q; see `troupe status`", m.Offer.Application, g.model.Name)
	}
	key := ent.OfferKey(g.cfg.UUID, m.Offer.Name)
	op, err := store.Put(key, &m.Offer)
	if err != nil {
		return nil, err
	}
	if _, err := g.cfg.Store.CommitIf(c, []store.Cond{store.Absent(key)}, op); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("offer %q already exists in model %q; choose another name or `troupe remove-offer %s`", m.Offer.Name, g.model.Name, m.Offer.Name)
		}
		return nil, fmt.Errorf("cannot record offer: %w", err)
	}
	return &OfferAdded{Offer: m.Offer}, nil
}

func (g *guardian) addRemoteApplication(m *AddRemoteApplication) (*RemoteApplicationAdded, error) {
	if err := g.errDying(); err != nil {
		return nil, err
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	akey, key := ent.ApplicationKey(g.cfg.UUID, m.App.Name), ent.RemoteApplicationKey(g.cfg.UUID, m.App.Name)
	op, err := store.Put(key, &m.App)
	if err != nil {
		return nil, err
	}
	if _, err := g.cfg.Store.CommitIf(c, []store.Cond{store.Absent(akey), store.Absent(key)}, op); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("application %q already exists in model %q; consume under another name: `troupe consume <offer-url> <alias>`", m.App.Name, g.model.Name)
		}
		return nil, fmt.Errorf("cannot record consumed offer: %w", err)
	}
	return &RemoteApplicationAdded{}, nil
}

func (g *guardian) deleteKey(key, what, name string) error {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.cfg.Store.Get(c, key, new(any)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s %q not found in model %q", what, name, g.model.Name)
		}
		return err
	}
	if _, err := g.cfg.Store.Commit(c, store.Delete(key)); err != nil {
		return fmt.Errorf("cannot remove %s %q: %w", what, name, err)
	}
	return nil
}

func (g *guardian) reserveRelationID() (*RelationIDReserved, error) {
	if err := g.errDying(); err != nil {
		return nil, err
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next := *g.model
	id := next.NextRelation
	next.NextRelation++
	op, err := store.Put(ent.ModelKey(g.cfg.UUID), &next)
	if err != nil {
		return nil, err
	}
	if _, err := g.cfg.Store.Commit(c, op); err != nil {
		return nil, fmt.Errorf("cannot reserve a relation id: %w", err)
	}
	g.model = &next
	return &RelationIDReserved{ID: id}, nil
}

// remoteEndpointApp checks that the SAAS application named by a
// cross-model relation's endpoint is alive in this model.
func (g *guardian) remoteEndpointApp(c context.Context, name string) error {
	var ra ent.RemoteApplication
	if _, err := g.cfg.Store.Get(c, ent.RemoteApplicationKey(g.cfg.UUID, name), &ra); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("application %q not found in model %q", name, g.model.Name)
		}
		return err
	}
	if ra.Life != ent.Alive {
		return fmt.Errorf("cannot relate to %q: it is %s", name, ra.Life)
	}
	return nil
}
