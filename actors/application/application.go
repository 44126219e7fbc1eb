// Package application holds the application actor's protocol and its pure
// decision function. The actor itself is an entity actor (actors/entity)
// owning one entity.Application document; its model guardian spawns it.
package application

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
)

// ClaimLeadership claims or renews the leadership lease for Unit.
type ClaimLeadership struct {
	Unit     string
	Duration time.Duration
}

// LeadershipClaimed answers ClaimLeadership.
type LeadershipClaimed struct {
	Held   bool
	Leader string
	// Expiry is when the leader's lease (the claimant's own when Held)
	// ends: no other unit can lead before it.
	Expiry time.Time
}

// SetStatus sets the application status; only the current leader may.
type SetStatus struct {
	Unit   string
	Status entity.Status
}

// SetResources replaces the named file resources ("<sha256>/<file>").
type SetResources struct{ Resources map[string]string }

// SetTrust sets the application-config "trust".
type SetTrust struct{ Trust bool }

// SetWorkloadVersion records the workload version reported by a unit.
type SetWorkloadVersion struct{ Version string }

// SetSettings replaces the application's user settings and the effective
// settings derived from them (validated by the caller against the charm).
type SetSettings struct {
	User      map[string]any
	Effective map[string]any
	Hash      string
}

// SetLeaderSettings merges leader-set changes (an empty value deletes);
// only the unit holding the lease may write.
type SetLeaderSettings struct {
	Unit    string
	Changes map[string]string
}

// Destroy makes an alive application dying; the cleaner then destroys its
// units and, once they are all dead, makes the application dead.
type Destroy struct{}

// SetDead records that every unit of a dying application is dead.
type SetDead struct{}

// Done acknowledges a command.
type Done struct{}

// ErrNotLeader is returned when a non-leader sets application status.
var ErrNotLeader = errors.New("this unit is not the leader")

// Lease bounds as in contract §7.
const (
	MinLease = 5 * time.Second
	MaxLease = 5 * time.Minute
)

// Handle is the application's decision function.
func Handle(now time.Time, cur *entity.Application, msg any) (*entity.Application, any, error) {
	switch m := msg.(type) {
	case *ClaimLeadership:
		if m.Duration < MinLease || m.Duration > MaxLease {
			return nil, nil, fmt.Errorf("lease duration %s out of range [%s, %s]", m.Duration, MinLease, MaxLease)
		}
		leader := cur.LeaderAt(now)
		if leader != "" && leader != m.Unit {
			return nil, &LeadershipClaimed{Held: false, Leader: leader, Expiry: cur.LeaseExpiry}, nil
		}
		next := *cur
		next.Leader = m.Unit
		next.LeaseExpiry = now.Add(m.Duration)
		return &next, &LeadershipClaimed{Held: true, Leader: m.Unit, Expiry: next.LeaseExpiry}, nil
	case *SetStatus:
		if cur.LeaderAt(now) != m.Unit {
			return nil, nil, ErrNotLeader
		}
		next := *cur
		next.Status = m.Status
		return &next, &Done{}, nil
	case *SetLeaderSettings:
		if cur.LeaderAt(now) != m.Unit {
			return nil, nil, ErrNotLeader
		}
		next := *cur
		next.LeaderSettings = maps.Clone(cur.LeaderSettings)
		changed := false
		for k, v := range m.Changes {
			old, had := next.LeaderSettings[k]
			switch {
			case v == "" && had:
				delete(next.LeaderSettings, k)
				changed = true
			case v != "" && old != v:
				if next.LeaderSettings == nil {
					next.LeaderSettings = map[string]string{}
				}
				next.LeaderSettings[k] = v
				changed = true
			}
		}
		if !changed {
			return nil, &Done{}, nil
		}
		next.LeaderSettingsVersion++
		return &next, &Done{}, nil
	case *SetCharm:
		return setCharm(cur, m)
	case *UpdateSettings:
		return updateSettings(cur, m)
	case *SetSettings:
		next := *cur
		next.UserSettings, next.Settings, next.ConfigHash = m.User, m.Effective, m.Hash
		return &next, &Done{}, nil
	case *Destroy:
		if cur.Life != entity.Alive {
			return nil, &Done{}, nil
		}
		next := *cur
		next.Life = entity.Dying
		return &next, &Done{}, nil
	case *SetDead:
		if cur.Life == entity.Alive {
			return nil, nil, fmt.Errorf("application %s is alive; remove it with `troupe remove-application` first", cur.Name)
		}
		next := *cur
		next.Life = entity.Dead
		return &next, &Done{}, nil
	case *SetResources:
		next := *cur
		next.Resources = maps.Clone(cur.Resources)
		if next.Resources == nil {
			next.Resources = map[string]string{}
		}
		maps.Copy(next.Resources, m.Resources)
		return &next, &Done{}, nil
	case *SetTrust:
		if cur.Trust == m.Trust {
			return nil, &Done{}, nil
		}
		next := *cur
		next.Trust = m.Trust
		return &next, &Done{}, nil
	case *SetWorkloadVersion:
		if cur.WorkloadVersion == m.Version {
			return nil, &Done{}, nil
		}
		next := *cur
		next.WorkloadVersion = m.Version
		return &next, &Done{}, nil
	}
	return nil, nil, fmt.Errorf("application: unexpected message %T", msg)
}
