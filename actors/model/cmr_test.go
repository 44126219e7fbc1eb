package model_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/relation"
	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// TestCrossModelGuardian: offers and consumed offers are recorded once
// each, relation ids are reserved from the model's counter, and a
// relation to a consumed offer is written with its link in the offering
// model, which goes with the relation.
func TestCrossModelGuardian(t *testing.T) {
	s, root, pid := guardian(t)
	ctx := context.Background()
	if _, err := ask[*model.OfferAdded](t, root, pid, &model.AddOffer{Offer: ent.Offer{Name: "o", Application: "a"}}); err == nil ||
		!strings.Contains(err.Error(), `"a" not found`) {
		t.Errorf("offer of a missing application: %v", err)
	}
	if _, err := ask[*model.Deployed](t, root, pid, deploy("a", 1)); err != nil {
		t.Fatal(err)
	}
	offer := ent.Offer{UUID: "u1", Name: "o", Application: "a", Endpoints: []string{"db"}}
	if _, err := ask[*model.OfferAdded](t, root, pid, &model.AddOffer{Offer: offer}); err != nil {
		t.Fatal(err)
	}
	if _, err := ask[*model.OfferAdded](t, root, pid, &model.AddOffer{Offer: offer}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second offer o: %v", err)
	}
	r1, err := ask[*model.RelationIDReserved](t, root, pid, &model.ReserveRelationID{})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := ask[*model.RelationIDReserved](t, root, pid, &model.ReserveRelationID{})
	if err != nil || r2.ID != r1.ID+1 {
		t.Fatalf("reserved %d then %+v, %v", r1.ID, r2, err)
	}
	var m ent.Model
	if _, err := s.Get(ctx, ent.ModelKey(uuid), &m); err != nil || m.NextRelation != r2.ID+1 {
		t.Errorf("model next-relation %d, %v; want %d persisted", m.NextRelation, err, r2.ID+1)
	}

	saas := ent.RemoteApplication{Name: "a", OfferModel: "offering", OfferName: "kv", Life: ent.Alive,
		Endpoints: []ent.Endpoint{{Application: "a", Name: "db", Interface: "kv", Role: ent.RoleProvider}}}
	if _, err := ask[*model.RemoteApplicationAdded](t, root, pid, &model.AddRemoteApplication{App: saas}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("consuming under an application's name: %v", err)
	}
	saas.Name, saas.Endpoints[0].Application = "kvs", "kvs"
	if _, err := ask[*model.RemoteApplicationAdded](t, root, pid, &model.AddRemoteApplication{App: saas}); err != nil {
		t.Fatal(err)
	}
	eps := [2]ent.Endpoint{{Application: "a", Name: "db", Interface: "kv", Role: ent.RoleRequirer}, saas.Endpoints[0]}
	link := ent.RelationLink{ID: 9, Offer: "kv", Application: "kvstore", Alias: "kvs", ConsumerApp: "a", RemoteName: ent.NewRemoteName()}
	added, err := ask[*model.RelationAdded](t, root, pid, &model.AddRelation{Endpoints: eps, Remote: &model.RemoteEnd{OfferModel: "offering", Link: link}})
	if err != nil {
		t.Fatal(err)
	}
	var got ent.RelationLink
	if _, err := s.Get(ctx, ent.RelationLinkKey("offering", 9), &got); err != nil || got.ConsumerModel != uuid || got.RelationID != added.ID || got.RemoteName != link.RemoteName {
		t.Fatalf("link = %+v, %v; want it pointing at relation %d of %s", got, err, added.ID, uuid)
	}
	var rel ent.Relation
	if _, err := s.Get(ctx, ent.RelationKey(uuid, added.ID), &rel); err != nil || rel.Remote == nil || *rel.Remote != (ent.RemoteRelation{OfferModel: "offering", LinkID: 9}) {
		t.Fatalf("relation = %+v, %v", rel, err)
	}
	// Without Remote the consumed offer is no application.
	if _, err := ask[*model.RelationAdded](t, root, pid, &model.AddRelation{Endpoints: eps}); err == nil {
		t.Error("a relation to a consumed offer without its remote end was added")
	}
	// Destroyed with no unit in scope: removed, and its link with it.
	if _, err := ask[*relation.Done](t, root, pid, &model.Route{Kind: model.KindRelation, ID: strconv.Itoa(added.ID), Msg: &relation.Destroy{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, ent.RelationLinkKey("offering", 9), &got); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("link after the relation was removed: %v, want not found", err)
	}
	if _, err := ask[*model.RemoteApplicationRemoved](t, root, pid, &model.RemoveRemoteApplication{Name: "kvs"}); err != nil {
		t.Fatal(err)
	}
	link.ID = 10
	if _, err := ask[*model.RelationAdded](t, root, pid, &model.AddRelation{Endpoints: eps, Remote: &model.RemoteEnd{OfferModel: "offering", Link: link}}); err == nil ||
		!strings.Contains(err.Error(), `"kvs" not found`) {
		t.Errorf("relation to a removed consumed offer: %v", err)
	}
	if _, err := ask[*model.OfferRemoved](t, root, pid, &model.RemoveOffer{Name: "o"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ask[*model.OfferRemoved](t, root, pid, &model.RemoveOffer{Name: "o"}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("removing a removed offer: %v", err)
	}
}
