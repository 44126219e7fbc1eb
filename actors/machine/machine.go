// Package machine holds the machine actor's protocol and its pure decision
// function. The actor is an entity actor (actors/entity) owning one
// entity.Machine document.
package machine

import (
	"fmt"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/statushistory"
	"github.com/troupe-dev/troupe/internal/store"
)

// SetProvisioned records the instance a provider started for the machine
// and the hash of the credential handed to its agent.
type SetProvisioned struct {
	InstanceID   string
	PasswordHash string
	Hostname     string
	Addresses    []string
	// Hardware is what the provider gave the instance ("arch=amd64
	// cores=2 mem=1024M"); empty keeps what is recorded.
	Hardware string
}

// SetInstanceStatus records the provider's view (e.g. a provisioning error).
// A non-nil Agent also replaces the agent status (Juju shows a machine
// whose provisioning failed as juju-status error with the provider's
// message).
type SetInstanceStatus struct {
	Status entity.Status
	Agent  *entity.Status
}

// SetAgentStatus records what the machine agent reports.
type SetAgentStatus struct {
	Status    entity.Status
	Hostname  string
	Addresses []string
}

// Destroy makes the machine dying: the provisioner stops its instance.
type Destroy struct{}

// SetDead records that the machine's instance is gone.
type SetDead struct{}

// RevokeCredential invalidates the agent's credentials (current and
// pending): its next call is refused.
type RevokeCredential struct{}

// RequestRotation asks the agent to fetch a new credential.
type RequestRotation struct{}

// IssueCredential records the hash of a credential handed to the agent
// by a rotation; the current one stays valid until PromoteCredential.
type IssueCredential struct{ Hash string }

// PromoteCredential makes the pending credential the only one (the agent
// logged in with it).
type PromoteCredential struct{ Hash string }

// Done acknowledges a command.
type Done struct{}

// Handle is the machine's decision function. A status change also counts
// its history entries (StatusSeq), which Extra writes.
func Handle(now time.Time, cur *entity.Machine, msg any) (*entity.Machine, any, error) {
	next, reply, err := handle(now, cur, msg)
	if next != nil {
		next.StatusSeq = cur.StatusSeq + uint64(len(statushistory.MachineEntries(cur, next)))
	}
	return next, reply, err
}

// Extra returns the status history entries of a change from cur to next,
// committed with the machine's document (see actors/entity Config.Extra).
func Extra(model string) func(cur, next *entity.Machine) []store.Op {
	return func(cur, next *entity.Machine) []store.Op {
		ops, err := statushistory.Ops(model, statushistory.KindMachine, next.ID, statushistory.MachineEntries(cur, next))
		if err != nil {
			// Only an unencodable time gets here; the supervisor answers
			// the caller with it and nothing is persisted.
			panic(err.Error())
		}
		return ops
	}
}

func handle(now time.Time, cur *entity.Machine, msg any) (*entity.Machine, any, error) {
	next := *cur
	switch m := msg.(type) {
	case *SetProvisioned:
		next.InstanceID = m.InstanceID
		next.PasswordHash = m.PasswordHash
		next.Hostname = m.Hostname
		next.Addresses = m.Addresses
		if m.Hardware != "" {
			next.Hardware = m.Hardware
		}
		// An instance with addresses has been started; until then the
		// credential is recorded and the instance is allocating.
		next.Instance = entity.Status{Current: "allocating", Since: now}
		if len(m.Addresses) > 0 {
			next.Instance.Current = "running"
		}
		if cur.Agent.Current == "error" {
			// The provisioning error is fixed; the agent reports next.
			next.Agent = entity.Status{Current: "pending", Since: now}
		}
	case *SetInstanceStatus:
		next.Instance = m.Status
		if next.Instance.Since.IsZero() {
			next.Instance.Since = now
		}
		if m.Agent != nil {
			next.Agent = *m.Agent
			if next.Agent.Since.IsZero() {
				next.Agent.Since = now
			}
		}
	case *SetAgentStatus:
		if m.Status.Current != cur.Agent.Current || m.Status.Message != cur.Agent.Message {
			next.Agent = m.Status
			next.Agent.Since = now
		}
		if m.Hostname != "" {
			next.Hostname = m.Hostname
		}
		if len(m.Addresses) > 0 {
			next.Addresses = m.Addresses
		}
	case *Destroy:
		if cur.Life != entity.Alive {
			return nil, &Done{}, nil
		}
		next.Life = entity.Dying
	case *RevokeCredential:
		next.PasswordHash, next.PendingPasswordHash, next.RotateCredential = "", "", false
	case *RequestRotation:
		next.RotateCredential = true
	case *IssueCredential:
		next.PendingPasswordHash, next.RotateCredential = m.Hash, false
	case *PromoteCredential:
		if cur.PendingPasswordHash != m.Hash {
			return nil, &Done{}, nil // revoked or re-issued meanwhile
		}
		next.PasswordHash, next.PendingPasswordHash = m.Hash, ""
	case *SetDead:
		next.Life = entity.Dead
		next.Agent = entity.Status{Current: "stopped", Since: now}
	default:
		return nil, nil, fmt.Errorf("machine: unexpected message %T", msg)
	}
	return &next, &Done{}, nil
}
