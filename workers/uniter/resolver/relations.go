package resolver

import (
	"maps"
	"slices"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

// relationOp returns the next relation hook of any relation the unit has
// created, non-peer relations first (§2.2). A relation that is dying,
// suspended or gone from the snapshot, or any relation of a dying unit,
// is treated as having no remote members and is broken.
func relationOp(s State, r Snapshot) (Op, bool, error) {
	unitAlive := lifeOf(r.Life) == Alive
	for _, id := range sortedRelationIDs(s.Relations, func(rs *RelationState) bool { return rs.Peer }) {
		local := s.Relations[id]
		remote, found := r.Relations[id]
		broken := !unitAlive || !found || lifeOf(remote.Life) != Alive || remote.Suspended
		if broken {
			remote = RelationSnapshot{}
		}
		departee := ""
		if !unitAlive {
			departee = r.UnitName
		}
		h, leave, ok := nextRelationHook(id, local, remote, broken, departee)
		switch {
		case leave:
			return Op{Kind: OpLeaveScope, RelationID: id}, true, nil
		case ok:
			if err := h.Validate(); err != nil {
				return Op{}, false, err
			}
			return hookOp(OpRunHook, h, s, r, true), true, nil
		}
	}
	return Op{}, false, nil
}

// nextRelationHook applies the per-relation order (a)-(f) of §2.2.
// departee, when set, is the departing unit of every -departed (this unit
// is leaving); otherwise each departing remote unit departs itself. leave
// reports that a broken peer relation has no members left and must be
// forgotten without a hook.
func nextRelationHook(id int, local *RelationState, remote RelationSnapshot, broken bool, departee string) (h hook.Info, leave, ok bool) {
	base := hook.Info{RelationID: id, Endpoint: local.Endpoint}
	unitHook := func(kind hook.Kind, unit string, version int64) hook.Info {
		h := base
		h.Kind, h.RemoteUnit, h.RemoteApp, h.ChangeVersion = kind, unit, appOf(unit), version
		return h
	}
	// (a) the -changed that always follows a -joined.
	if u := local.ChangedPending; u != "" {
		return unitHook(hook.RelationChanged, u, remote.Members[u]), false, true
	}
	// (b) -departed for known units no longer in scope.
	for _, u := range slices.Sorted(maps.Keys(local.Members)) {
		if _, in := remote.Members[u]; !in {
			h := unitHook(hook.RelationDeparted, u, local.Members[u])
			h.DepartingUnit = u
			if departee != "" {
				h.DepartingUnit = departee
			}
			return h, false, true
		}
	}
	// (c) -broken, never for peers.
	if broken {
		if local.Peer {
			return hook.Info{}, true, false
		}
		h := base
		h.Kind, h.RemoteApp = hook.RelationBroken, local.RemoteApp
		return h, false, true
	}
	// (d) application-level -changed. A version never seen is 0 locally,
	// so a remote version of 0 does not fire.
	for _, app := range slices.Sorted(maps.Keys(remote.AppMembers)) {
		if v := remote.AppMembers[app]; v != local.AppMembers[app] {
			h := base
			h.Kind, h.RemoteApp, h.ChangeVersion = hook.RelationChanged, app, v
			return h, false, true
		}
	}
	// (e) -joined for new units.
	for _, u := range slices.Sorted(maps.Keys(remote.Members)) {
		if _, known := local.Members[u]; !known {
			return unitHook(hook.RelationJoined, u, remote.Members[u]), false, true
		}
	}
	// (f) -changed for units whose settings version differs.
	for _, u := range slices.Sorted(maps.Keys(remote.Members)) {
		if v := remote.Members[u]; v != local.Members[u] {
			return unitHook(hook.RelationChanged, u, v), false, true
		}
	}
	return hook.Info{}, false, false
}
