// Package unit holds the unit actor's protocol and its pure decision
// function. The actor is an entity actor (actors/entity) owning one
// entity.Unit document.
package unit

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/statushistory"
	"github.com/troupe-dev/troupe/internal/store"
)

// SetStatus updates the workload and/or agent status; nil leaves one as is.
type SetStatus struct {
	Workload *entity.Status
	Agent    *entity.Status
}

// SetPasswordHash replaces the unit agent's credential.
type SetPasswordHash struct{ Hash string }

// Resolve asks the unit to retry (or, with NoRetry, skip) its failed hook.
type Resolve struct{ NoRetry bool }

// ClearResolved clears the resolved flag once the agent acted on it.
type ClearResolved struct{}

// ErrNotInError is returned by Resolve for a unit without a hook error.
var ErrNotInError = errors.New("unit is not in an error state")

// Destroy makes an alive unit dying; its agent then tears it down.
type Destroy struct{}

// EnsureDead records that the unit's agent finished its tear-down.
type EnsureDead struct{}

// UpdateCharmState applies a hook's committed state-set and state-delete.
// Stream and Seq, when set, record the agent outbox entry the change
// came from; an entry at or below the recorded one is ignored.
type UpdateCharmState struct {
	Set    map[string]string
	Delete []string
	// OpenPorts and ClosePorts are port ranges by endpoint.
	OpenPorts, ClosePorts map[string][]string
	// Workload, if set, is a status-set queued in the agent's outbox;
	// applied in the same write as the sequence number, so once.
	Workload *entity.Status
	Stream   string
	Seq      uint64
}

// Done acknowledges a command.
type Done struct{}

// Handle is the unit's decision function. A status change also counts
// its history entries (StatusSeq), which Extra writes.
func Handle(now time.Time, cur *entity.Unit, msg any) (*entity.Unit, any, error) {
	next, reply, err := handle(now, cur, msg)
	if next != nil {
		next.StatusSeq = cur.StatusSeq + uint64(len(statushistory.UnitEntries(cur, next)))
	}
	return next, reply, err
}

// Extra returns the status history entries of a change from cur to next,
// committed with the unit's document (see actors/entity Config.Extra).
func Extra(model string) func(cur, next *entity.Unit) []store.Op {
	return func(cur, next *entity.Unit) []store.Op {
		ops, err := statushistory.Ops(model, statushistory.KindUnit, next.Name, statushistory.UnitEntries(cur, next))
		if err != nil {
			// Only an unencodable time gets here; the supervisor answers
			// the caller with it and nothing is persisted.
			panic(err.Error())
		}
		return ops
	}
}

func handle(now time.Time, cur *entity.Unit, msg any) (*entity.Unit, any, error) {
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
	case *Resolve:
		if cur.Agent.Current != "error" {
			return nil, nil, fmt.Errorf("%w: %s", ErrNotInError, cur.Name)
		}
		next := *cur
		next.Resolved = "retry-hooks"
		if m.NoRetry {
			next.Resolved = "no-hooks"
		}
		return &next, &Done{}, nil
	case *ClearResolved:
		if cur.Resolved == "" {
			return nil, &Done{}, nil
		}
		next := *cur
		next.Resolved = ""
		return &next, &Done{}, nil
	case *Destroy:
		if cur.Life != entity.Alive {
			return nil, &Done{}, nil
		}
		next := *cur
		next.Life = entity.Dying
		return &next, &Done{}, nil
	case *EnsureDead:
		if cur.Life == entity.Alive {
			return nil, nil, fmt.Errorf("unit %s is alive; remove it with `troupe remove-unit` first", cur.Name)
		}
		if cur.Life == entity.Dead {
			return nil, &Done{}, nil
		}
		next := *cur
		next.Life = entity.Dead
		return &next, &Done{}, nil
	case *UpdateCharmState:
		if m.Seq != 0 && m.Stream == cur.CommitStream && m.Seq <= cur.CommitSeq {
			return nil, &Done{}, nil // applied before
		}
		next := *cur
		next.CharmState = maps.Clone(cur.CharmState)
		changed := false
		if m.Seq != 0 {
			next.CommitStream, next.CommitSeq = m.Stream, m.Seq
			changed = true
		}
		for k, v := range m.Set {
			if old, ok := next.CharmState[k]; !ok || old != v {
				if next.CharmState == nil {
					next.CharmState = map[string]string{}
				}
				next.CharmState[k] = v
				changed = true
			}
		}
		for _, k := range m.Delete {
			if _, ok := next.CharmState[k]; ok {
				delete(next.CharmState, k)
				changed = true
			}
		}
		if w := m.Workload; w != nil && (w.Current != cur.Workload.Current || w.Message != cur.Workload.Message) {
			next.Workload = stamp(*w, now)
			changed = true
		}
		if ports, moved := applyPorts(cur.OpenPorts, m.OpenPorts, m.ClosePorts); moved {
			next.OpenPorts = ports
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

// applyPorts opens then closes ranges per endpoint and reports whether the
// result differs from cur. Each endpoint's list stays sorted and unique.
func applyPorts(cur, open, close map[string][]string) (map[string][]string, bool) {
	if len(open) == 0 && len(close) == 0 {
		return cur, false
	}
	next := map[string][]string{}
	for ep, rs := range cur {
		next[ep] = slices.Clone(rs)
	}
	for ep, rs := range open {
		for _, r := range rs {
			if !slices.Contains(next[ep], r) {
				next[ep] = append(next[ep], r)
			}
		}
	}
	for ep, rs := range close {
		next[ep] = slices.DeleteFunc(next[ep], func(r string) bool { return slices.Contains(rs, r) })
	}
	changed := false
	for ep, rs := range next {
		slices.Sort(rs)
		if len(rs) == 0 {
			delete(next, ep)
		}
		if !slices.Equal(rs, cur[ep]) {
			changed = true
		}
	}
	for ep := range cur {
		if _, ok := next[ep]; !ok {
			changed = true
		}
	}
	if len(next) == 0 {
		next = nil
	}
	return next, changed
}
