// Package goalstate decides the `goal-state` document of a unit from the
// controller's documents: a pure function, so its rules are pinned by
// table tests.
//
// The rules (Juju's, contract §4.2):
//   - units: every unit of the unit's own application that is not dead;
//     an alive unit shows its workload status ("waiting" while it has
//     none), a dying one "dying".
//   - relations, keyed by the unit's endpoint name: for each relation that
//     is not dead, one entry for the remote application — "dying" when the
//     relation is dying, "joined" once a remote unit is in scope,
//     "joining" before — and one per remote unit that is not dead:
//     "dying" when dying, "joined" in scope, "joining" not yet. A peer
//     relation lists the application's other units. Two relations on one
//     endpoint share its map.
package goalstate

import (
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
)

// Status is one entry of the document.
type Status struct {
	Status string
	Since  time.Time // zero: unknown
}

// Doc is the goal-state document.
type Doc struct {
	Units     map[string]Status
	Relations map[string]map[string]Status
}

// Relation is one relation with the units in its scope.
type Relation struct {
	Relation entity.Relation
	InScope  map[string]bool
}

// Build returns the goal state of unit self; units are the units of
// every application in the model (or at least of self's application and
// the related ones).
func Build(self string, units []entity.Unit, rels []Relation) Doc {
	app, _, _ := entity.SplitUnitName(self)
	doc := Doc{Units: map[string]Status{}, Relations: map[string]map[string]Status{}}
	byApp := map[string][]entity.Unit{}
	for _, u := range units {
		if u.Life == entity.Dead {
			continue
		}
		byApp[u.Application] = append(byApp[u.Application], u)
	}
	for _, u := range byApp[app] {
		doc.Units[u.Name] = unitStatus(u)
	}
	for _, r := range rels {
		ep, ok := r.Relation.Endpoint(app)
		if !ok || r.Relation.Life == entity.Dead {
			continue
		}
		remote := r.Relation.RemoteApp(app)
		m := doc.Relations[ep.Name]
		if m == nil {
			m = map[string]Status{}
			doc.Relations[ep.Name] = m
		}
		joined := false
		for _, u := range byApp[remote] {
			if u.Name == self {
				continue
			}
			st := Status{Status: "joining"}
			switch {
			case u.Life == entity.Dying || r.Relation.Life == entity.Dying:
				st.Status = "dying"
			case r.InScope[u.Name]:
				st.Status = "joined"
				joined = true
			}
			m[u.Name] = st
		}
		if r.Relation.IsPeer() {
			continue // the peers are the application's own units
		}
		st := Status{Status: "joining"}
		switch {
		case r.Relation.Life == entity.Dying:
			st.Status = "dying"
		case joined:
			st.Status = "joined"
		}
		m[remote] = st
	}
	return doc
}

func unitStatus(u entity.Unit) Status {
	if u.Life == entity.Dying {
		return Status{Status: "dying"}
	}
	st := strings.TrimSpace(u.Workload.Current)
	if st == "" || st == "unknown" {
		st = "waiting"
	}
	return Status{Status: st, Since: u.Workload.Since}
}
