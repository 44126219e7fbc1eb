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
