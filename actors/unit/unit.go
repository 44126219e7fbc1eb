// Package unit holds the unit actor's protocol and its pure decision
// function. The actor is an entity actor (actors/entity) owning one
// entity.Unit document.
package unit

import (
	"fmt"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
)

// SetStatus updates the workload and/or agent status; nil leaves one as is.
type SetStatus struct {
	Workload *entity.Status
	Agent    *entity.Status
}

// SetPasswordHash replaces the unit agent's credential.
type SetPasswordHash struct{ Hash string }

// Done acknowledges a command.
type Done struct{}

// Handle is the unit's decision function.
func Handle(now time.Time, cur *entity.Unit, msg any) (*entity.Unit, any, error) {
	switch m := msg.(type) {
	case *SetStatus:
		next := *cur
		changed := false
		if m.Workload != nil && (m.Workload.Current != cur.Workload.Current || m.Workload.Message != cur.Workload.Message) {
			next.Workload = stamp(*m.Workload, now)
			changed = true
		}
		if m.Agent != nil && (m.Agent.Current != cur.Agent.Current || m.Agent.Message != cur.Agent.Message) {
			next.Agent = stamp(*m.Agent, now)
			changed = true
		}
		if !changed {
			return nil, &Done{}, nil
		}
		return &next, &Done{}, nil
	case *SetPasswordHash:
		next := *cur
		next.PasswordHash = m.Hash
		return &next, &Done{}, nil
	}
	return nil, nil, fmt.Errorf("unit: unexpected message %T", msg)
}

func stamp(s entity.Status, now time.Time) entity.Status {
	if s.Since.IsZero() {
		s.Since = now
	}
	return s
}
