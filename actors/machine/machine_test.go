package machine

import (
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
)

// A provisioning error shows on the agent status too, and a later
// successful provisioning clears it.
func TestProvisioningErrorThenProvisioned(t *testing.T) {
	now := time.Unix(100, 0)
	m := &entity.Machine{ID: "0", Life: entity.Alive}
	next, _, err := Handle(now, m, &SetInstanceStatus{
		Status: entity.Status{Current: "provisioning error", Message: "LXD down"},
		Agent:  &entity.Status{Current: "error", Message: "LXD down"}})
	if err != nil {
		t.Fatal(err)
	}
	if next.Agent.Current != "error" || next.Agent.Message != "LXD down" || next.Instance.Current != "provisioning error" {
		t.Fatalf("after a provisioning error: agent %+v instance %+v", next.Agent, next.Instance)
	}
	next, _, err = Handle(now, next, &SetProvisioned{InstanceID: "i", Addresses: []string{"10.0.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	if next.Agent.Current != "pending" || next.Instance.Current != "running" {
		t.Fatalf("after provisioning: agent %+v instance %+v, want pending and running", next.Agent, next.Instance)
	}
}

// Rotation keeps the old credential until the new one is promoted;
// revocation empties both; a stale promotion changes nothing.
func TestCredentialRotationAndRevocation(t *testing.T) {
	now := time.Unix(100, 0)
	step := func(m *entity.Machine, msg any) *entity.Machine {
		t.Helper()
		next, _, err := Handle(now, m, msg)
		if err != nil {
			t.Fatal(err)
		}
		if next == nil {
			return m
		}
		return next
	}
	m := &entity.Machine{ID: "0", PasswordHash: "old"}
	m = step(m, &RequestRotation{})
	if !m.RotateCredential || m.PasswordHash != "old" {
		t.Fatalf("after RequestRotation: %+v", m)
	}
	m = step(m, &IssueCredential{Hash: "new"})
	if m.RotateCredential || m.PasswordHash != "old" || m.PendingPasswordHash != "new" {
		t.Fatalf("after IssueCredential: %+v", m)
	}
	if s := step(m, &PromoteCredential{Hash: "other"}); s.PasswordHash != "old" {
		t.Fatalf("a stale promotion changed the credential: %+v", s)
	}
	m = step(m, &PromoteCredential{Hash: "new"})
	if m.PasswordHash != "new" || m.PendingPasswordHash != "" {
		t.Fatalf("after PromoteCredential: %+v", m)
	}
	m = step(step(m, &RequestRotation{}), &IssueCredential{Hash: "newer"})
	m = step(m, &RevokeCredential{})
	if m.PasswordHash != "" || m.PendingPasswordHash != "" || m.RotateCredential {
		t.Fatalf("after RevokeCredential: %+v", m)
	}
	if s := step(m, &PromoteCredential{Hash: "newer"}); s.PasswordHash != "" {
		t.Fatalf("a pending credential issued before the revocation was promoted: %+v", s)
	}
}
