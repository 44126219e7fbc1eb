package apiserver

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
)

// TestEveryMethodHasARule: every RPC of service Controller has exactly one
// rule, no rule names a method that does not exist, and every rule that
// reads a target field reads one the request message has.
func TestEveryMethodHasARule(t *testing.T) {
	svc := apipb.File_troupe_proto.Services().ByName("Controller")
	methods := svc.Methods()
	seen := map[string]bool{}
	for i := 0; i < methods.Len(); i++ {
		m := methods.Get(i)
		full := method(string(m.Name()))
		seen[full] = true
		r, ok := rules[full]
		if !ok {
			t.Errorf("RPC %s has no authorization rule in authz.go", full)
			continue
		}
		need := map[target]string{ownUnit: "unit", ownMachine: "machine", machineUnit: "unit", modelUser: "model"}[r.target]
		if need == "" {
			continue
		}
		fd := m.Input().Fields().ByName(protoreflect.Name(need))
		if fd == nil || fd.Kind() != protoreflect.StringKind {
			t.Errorf("rule of %s checks field %q, which %s does not have", full, need, m.Input().FullName())
		}
		if r.target == modelUser && r.level == nil {
			t.Errorf("rule of %s has no access level", full)
		}
	}
	for k := range rules {
		if !seen[k] {
			t.Errorf("rule for %s names no RPC of service Controller", k)
		}
	}
}

type fakeLookups struct {
	models   map[string]string // name -> uuid
	machines map[string]string // unit -> machine
	charms   map[string]string // unit -> charm url of its application
}

func (f fakeLookups) mayFetchCharm(_ context.Context, agent entity.Tag, url string) (bool, error) {
	for unit, u := range f.charms {
		if u == url && (agent.Kind == entity.KindUnit && agent.Name == unit ||
			agent.Kind == entity.KindMachine && f.machines[unit] == agent.Name) {
			return true, nil
		}
	}
	return false, nil
}

func (f fakeLookups) modelUUID(_ context.Context, name string) (string, bool, error) {
	if name == "" {
		name = "default"
	}
	u, ok := f.models[name]
	return u, ok, nil
}

func (f fakeLookups) unitMachine(_ context.Context, _, unit string) (string, bool, error) {
	m, ok := f.machines[unit]
	return m, ok, nil
}

func TestDecide(t *testing.T) {
	look := fakeLookups{models: map[string]string{"default": "u1", "other": "u2"}, machines: map[string]string{"a/0": "0", "b/0": "1"},
		charms: map[string]string{"a/0": "local:a-0", "b/0": "local:b-0"}}
	unitA0 := caller{tag: entity.Tag{Kind: entity.KindUnit, Name: "a/0", Model: "u1"}}
	machine0 := caller{tag: entity.Tag{Kind: entity.KindMachine, Name: "0", Model: "u1"}}
	reader := caller{tag: entity.Tag{Kind: entity.KindUser, Name: "r"}, user: entity.User{Name: "r", Access: map[string]entity.Access{"u1": entity.AccessRead}}}
	writer := caller{tag: entity.Tag{Kind: entity.KindUser, Name: "w"}, user: entity.User{Name: "w", Access: map[string]entity.Access{"u1": entity.AccessWrite}}}
	adminU := caller{tag: entity.Tag{Kind: entity.KindUser, Name: "m"}, user: entity.User{Name: "m", Access: map[string]entity.Access{"u1": entity.AccessAdmin}}}
	super := caller{tag: entity.Tag{Kind: entity.KindUser, Name: "admin"}, user: entity.User{Name: "admin", Superuser: true}}
	cases := []struct {
		who    caller
		method string
		req    proto.Message
		ok     bool
	}{
		{unitA0, "UnitSnapshot", &apipb.UnitSnapshotRequest{Unit: "a/0"}, true},
		{unitA0, "UnitSnapshot", &apipb.UnitSnapshotRequest{Unit: "a/1"}, false},
		{unitA0, "ClaimLeadership", &apipb.ClaimLeadershipRequest{Unit: "b/0"}, false},
		{unitA0, "Status", &apipb.StatusRequest{}, false},
		{unitA0, "MachineUnits", &apipb.MachineUnitsRequest{Machine: "0"}, false},
		{machine0, "MachineUnits", &apipb.MachineUnitsRequest{Machine: "0"}, true},
		{machine0, "MachineUnits", &apipb.MachineUnitsRequest{Machine: "1"}, false},
		{machine0, "IssueUnitCredential", &apipb.IssueUnitCredentialRequest{Unit: "a/0"}, true},
		{machine0, "IssueUnitCredential", &apipb.IssueUnitCredentialRequest{Unit: "b/0"}, false},
		{machine0, "IssueUnitCredential", &apipb.IssueUnitCredentialRequest{Unit: "nope"}, false},
		{machine0, "UnitSnapshot", &apipb.UnitSnapshotRequest{Unit: "a/0"}, false},
		{machine0, "GetCharm", &apipb.GetCharmRequest{CharmUrl: "local:a-0"}, true},
		{machine0, "GetCharm", &apipb.GetCharmRequest{CharmUrl: "local:b-0"}, false},
		{unitA0, "GetCharm", &apipb.GetCharmRequest{CharmUrl: "local:a-0"}, true},
		{unitA0, "GetCharm", &apipb.GetCharmRequest{CharmUrl: "local:b-0"}, false},
		{reader, "GetCharm", &apipb.GetCharmRequest{CharmUrl: "local:a-0"}, false},
		{reader, "Status", &apipb.StatusRequest{}, true},
		{reader, "Status", &apipb.StatusRequest{Model: "other"}, false},
		{reader, "Status", &apipb.StatusRequest{Model: "missing"}, false},
		{reader, "Deploy", &apipb.DeployRequest{}, false},
		{reader, "ModelConstraints", &apipb.ModelConstraintsRequest{}, true},
		{reader, "ModelConstraints", &apipb.ModelConstraintsRequest{Set: true}, false},
		{reader, "UnitSnapshot", &apipb.UnitSnapshotRequest{Unit: "a/0"}, false},
		{writer, "Deploy", &apipb.DeployRequest{}, true},
		{writer, "ModelConstraints", &apipb.ModelConstraintsRequest{Set: true}, true},
		{writer, "ListSecrets", &apipb.ListSecretsRequest{Reveal: true}, false},
		{writer, "DestroyModel", &apipb.DestroyModelRequest{}, false},
		{writer, "GrantAccess", &apipb.GrantAccessRequest{Model: "default"}, false},
		{writer, "AddModel", &apipb.AddModelRequest{}, false},
		{adminU, "DestroyModel", &apipb.DestroyModelRequest{}, true},
		{adminU, "GrantAccess", &apipb.GrantAccessRequest{Model: "default"}, true},
		{adminU, "GrantAccess", &apipb.GrantAccessRequest{Model: "other"}, false},
		{adminU, "AddUser", &apipb.AddUserRequest{}, false},
		{adminU, "DestroyController", &apipb.DestroyControllerRequest{}, false},
		{super, "DestroyController", &apipb.DestroyControllerRequest{}, true},
		{super, "Status", &apipb.StatusRequest{Model: "other"}, true},
		{super, "UnitSnapshot", &apipb.UnitSnapshotRequest{Unit: "a/0"}, false},
		{reader, "ChangeUserPassword", &apipb.ChangeUserPasswordRequest{}, true},
		{unitA0, "ChangeUserPassword", &apipb.ChangeUserPasswordRequest{}, false},
		{unitA0, "WhoAmI", &apipb.WhoAmIRequest{}, true},
	}
	for _, c := range cases {
		err := decide(context.Background(), c.who, method(c.method), c.req, look)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, errPerm)) {
			t.Errorf("%s calling %s(%v): %v, want allowed=%v", c.who.tag, c.method, c.req, err, c.ok)
		}
	}
	if err := decide(context.Background(), super, "/troupe.v1.Controller/NoSuch", nil, look); err == nil {
		t.Error("a method without a rule was allowed")
	}
}

func TestLoginBackoff(t *testing.T) {
	now := time.Unix(1000, 0)
	g := &loginGuard{now: func() time.Time { return now }}
	for i := 0; i < freeFailures; i++ {
		g.failed("bob")
		if d := g.blocked("bob"); d != 0 {
			t.Fatalf("blocked after %d failures: %v", i+1, d)
		}
	}
	g.failed("bob")
	if d := g.blocked("bob"); d != time.Second {
		t.Fatalf("after %d failures blocked %v, want 1s", freeFailures+1, d)
	}
	g.failed("bob")
	if d := g.blocked("bob"); d != 2*time.Second {
		t.Fatalf("blocked %v, want 2s", d)
	}
	if d := g.blocked("alice"); d != 0 {
		t.Fatalf("another user blocked: %v", d)
	}
	for i := 0; i < 20; i++ {
		g.failed("bob")
	}
	if d := g.blocked("bob"); d != maxBackoff {
		t.Fatalf("blocked %v, want the cap %v", d, maxBackoff)
	}
	now = now.Add(maxBackoff)
	if d := g.blocked("bob"); d != 0 {
		t.Fatalf("still blocked after the wait: %v", d)
	}
	g.succeeded("bob")
	g.failed("bob")
	if d := g.blocked("bob"); d != 0 {
		t.Fatalf("success did not reset the count: %v", d)
	}
}

func TestLoginGuardCheck(t *testing.T) {
	g := &loginGuard{}
	h := entity.HashUserPassword("correct horse")
	if !g.check("user-bob", h, "correct horse") || !g.check("user-bob", h, "correct horse") {
		t.Fatal("correct password refused")
	}
	if g.check("user-bob", h, "wrong") {
		t.Fatal("wrong password accepted")
	}
	h2 := entity.HashUserPassword("new password")
	if g.check("user-bob", h2, "correct horse") {
		t.Fatal("old password accepted after the hash changed (stale cache)")
	}
	// Revocation empties the agent's hash: a password verified (and
	// cached) a moment ago is refused at once.
	mh := entity.HashPassword("agent pw")
	if !g.check("machine-3@m", mh, "agent pw") || g.check("machine-3@m", "", "agent pw") {
		t.Fatal("a revoked agent password still verifies (stale cache)")
	}
	if g.check("user-bob", "", "") {
		t.Fatal("empty hash accepted")
	}
}
