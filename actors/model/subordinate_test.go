package model_test

import (
	"context"
	"testing"

	"github.com/troupe-dev/troupe/actors/model"
	ent "github.com/troupe-dev/troupe/internal/entity"
)

// AddSubordinate makes one unit per principal, on its machine; repeating
// it changes nothing, and a principal-less or principal application is
// refused.
func TestAddSubordinateOncePerPrincipal(t *testing.T) {
	s, root, pid := guardian(t)
	if _, err := ask[*model.Deployed](t, root, pid, deploy("web", 2)); err != nil {
		t.Fatal(err)
	}
	sub := &model.Deploy{Charm: ent.Charm{Name: "logs", SHA256: "y"}, App: ent.Application{Name: "logs", Subordinate: true}}
	if _, err := ask[*model.Deployed](t, root, pid, sub); err != nil {
		t.Fatal(err)
	}
	first, err := ask[*model.SubordinateAdded](t, root, pid, &model.AddSubordinate{App: "logs", Principal: "web/1"})
	if err != nil || !first.Created || first.Unit != "logs/0" {
		t.Fatalf("first AddSubordinate: %+v %v, want logs/0 created", first, err)
	}
	again, err := ask[*model.SubordinateAdded](t, root, pid, &model.AddSubordinate{App: "logs", Principal: "web/1"})
	if err != nil || again.Created || again.Unit != "logs/0" {
		t.Fatalf("repeated AddSubordinate: %+v %v, want logs/0 not created again", again, err)
	}
	var u ent.Unit
	if _, err := s.Get(context.Background(), ent.UnitKey(uuid, "logs/0"), &u); err != nil {
		t.Fatal(err)
	}
	if u.Principal != "web/1" || u.Machine != unitMachine(t, s, "web/1") {
		t.Errorf("logs/0: principal %q machine %q, want web/1 on %s", u.Principal, u.Machine, unitMachine(t, s, "web/1"))
	}
	if _, err := ask[*model.SubordinateAdded](t, root, pid, &model.AddSubordinate{App: "web", Principal: "web/0"}); err == nil {
		t.Error("AddSubordinate of a principal application: want an error")
	}
	if _, err := ask[*model.SubordinateAdded](t, root, pid, &model.AddSubordinate{App: "logs", Principal: "web/9"}); err == nil {
		t.Error("AddSubordinate for a missing principal: want an error")
	}
}
