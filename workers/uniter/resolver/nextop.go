package resolver

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

// NextOp returns the one operation that moves the unit from local state s
// towards remote snapshot r, or ErrNoOperation, ErrWaiting or ErrUnitDead.
// It is pure: it never blocks, never performs IO and returns the same
// answer for the same arguments.
//
// Priorities (§2.2):
//
//  1. a dead unit, or a removed one, is done (ErrUnitDead); an interrupted
//     deploy, upgrade or action is resumed (the action is failed, never
//     re-run);
//  2. relation-created for every alive relation not yet created;
//  3. leadership: accept (queues leader-elected), resign (no hook), or
//     leader-settings-changed for a non-leader;
//  4. Pebble workload events, secret events, actions (also allowed in
//     the hook error state), storage-attached/-detaching;
//  5. the recorded hook: pending is the error state (retry, resolve or
//     wait), queued runs, done commits;
//  6. when idle: a dying unit departs and breaks its relations, then
//     runs stop and remove; otherwise install, upgrade, config-changed
//     (always once before start), relation hooks (only after start), and
//     last update-status.
func NextOp(s State, r Snapshot) (Op, error) {
	if lifeOf(r.Life) == Dead || s.Removed {
		return Op{}, ErrUnitDead
	}
	switch s.Kind {
	case "":
		if lifeOf(r.Life) != Alive {
			return Op{}, ErrUnitDead
		}
		if r.CharmURL == "" {
			return Op{}, ErrWaiting
		}
		return Op{Kind: OpDeploy, CharmURL: r.CharmURL, CharmModifiedVersion: r.CharmModifiedVersion}, nil
	case KindInstall:
		return Op{Kind: OpDeploy, CharmURL: s.CharmURL, CharmModifiedVersion: s.CharmModifiedVersion}, nil
	case KindUpgrade:
		return Op{Kind: OpUpgrade, CharmURL: s.CharmURL, CharmModifiedVersion: s.CharmModifiedVersion}, nil
	case KindRunAction:
		return Op{Kind: OpFailAction, ActionID: s.ActionID}, nil
	case KindRunHook, KindContinue:
	default:
		return Op{}, fmt.Errorf("cannot resolve unknown operation kind %q", s.Kind)
	}
	if s.Kind == KindRunHook && s.Hook == nil {
		return Op{}, fmt.Errorf("cannot resolve %s operation without a hook", s.Kind)
	}

	for _, next := range []func(State, Snapshot) (Op, bool, error){
		createdRelationOp, leadershipOp, eventOp, actionOp, storageOp,
	} {
		if op, ok, err := next(s, r); err != nil || ok {
			return op, err
		}
	}

	if s.Kind == KindContinue {
		return idleOp(s, r)
	}
	h := *s.Hook
	switch s.Step {
	case StepPending:
		return hookErrorOp(s, r)
	case StepQueued:
		switch {
		case h.Kind == hook.Install:
			// Decided afresh, so that a dying unit never installs and
			// install waits for its storage.
			return idleOp(s, r)
		case h.Kind == hook.LeaderElected && !r.Leader:
			return hookOp(OpSkipHook, h, s, r, false), nil
		}
		return hookOp(OpRunHook, h, s, r, false), nil
	case StepDone:
		return hookOp(OpSkipHook, h, s, r, false), nil
	}
	return Op{}, fmt.Errorf("cannot resolve unknown operation step %q", s.Step)
}

// hookOp builds a hook op. fresh says the hook was decided from r just
// now, so r's hashes are what a config-changed hook reports.
func hookOp(kind OpKind, h hook.Info, s State, r Snapshot, fresh bool) Op {
	op := Op{Kind: kind, Hook: h}
	retry := r.RetryHookVersion
	op.marks.retryHook = &retry
	// A done hook already recorded the hashes it ran with at Prepare.
	if h.Kind == hook.ConfigChanged && (fresh || s.Step != StepDone) {
		op.marks.hashes = &hashes{r.ConfigHash, r.TrustHash, r.AddressesHash}
	}
	if h.Kind == hook.RelationCreated {
		rel := &RelationState{Endpoint: h.Endpoint, RemoteApp: h.RemoteApp}
		if rs, ok := r.Relations[h.RelationID]; ok {
			rel.Peer = rs.Peer
		} else {
			rel.Peer = h.RemoteApp == appOf(r.UnitName)
		}
		op.marks.relation = rel
	}
	return op
}

func appOf(unit string) string {
	app, _, _ := strings.Cut(unit, "/")
	return app
}

func charmModified(s State, r Snapshot) bool {
	return r.CharmURL != "" && (s.CharmURL != r.CharmURL || s.CharmModifiedVersion != r.CharmModifiedVersion)
}

func leadershipOp(s State, r Snapshot) (Op, bool, error) {
	if !s.Installed {
		return Op{}, false, nil
	}
	alive := lifeOf(r.Life) == Alive
	switch {
	case r.Leader && !s.Leader && alive && s.Kind == KindContinue:
		return Op{Kind: OpAcceptLeadership}, true, nil
	case s.Leader && (!r.Leader || !alive):
		v := r.LeaderSettingsVersion
		return Op{Kind: OpResignLeadership, marks: marks{leaderSettings: &v}}, true, nil
	case !s.Leader && s.Kind == KindContinue && !s.Stopped && s.LeaderSettingsVersion != r.LeaderSettingsVersion:
		// Not once stopped: only remove runs after stop (an agent
		// restarted between the two would otherwise run it, as its
		// version is in memory).
		op := hookOp(OpRunHook, hook.Info{Kind: hook.LeaderSettingsChanged}, s, r, true)
		v := r.LeaderSettingsVersion
		op.marks.leaderSettings = &v
		return op, true, nil
	}
	return Op{}, false, nil
}

// sortedRelationIDs returns ids with non-peer relations first, each group
// in increasing id order.
func sortedRelationIDs[R any](m map[int]R, peer func(R) bool) []int {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b int) int {
		pa, pb := peer(m[a]), peer(m[b])
		if pa != pb {
			if pb {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	return ids
}

func createdRelationOp(s State, r Snapshot) (Op, bool, error) {
	if !s.Installed || lifeOf(r.Life) != Alive || s.Kind != KindContinue {
		return Op{}, false, nil
	}
	for _, id := range sortedRelationIDs(r.Relations, func(rs RelationSnapshot) bool { return rs.Peer }) {
		rs := r.Relations[id]
		if lifeOf(rs.Life) != Alive || rs.Suspended || s.Relations[id] != nil {
			continue
		}
		h := hook.Info{Kind: hook.RelationCreated, RelationID: id, Endpoint: rs.Endpoint, RemoteApp: rs.RemoteApp}
		if err := h.Validate(); err != nil {
			return Op{}, false, fmt.Errorf("cannot create relation %d: %w", id, err)
		}
		return hookOp(OpRunHook, h, s, r, true), true, nil
	}
	return Op{}, false, nil
}

func eventOp(s State, r Snapshot) (Op, bool, error) {
	if !s.Installed || lifeOf(r.Life) != Alive || s.Kind != KindContinue {
		return Op{}, false, nil
	}
	if ev, ok := firstEvent(r.WorkloadEvents, s.WorkloadEventSeq); ok {
		op, err := eventHookOp(ev, s, r)
		op.marks.workloadSeq = &ev.Seq
		return op, true, err
	}
	if ev, ok := firstEvent(r.SecretEvents, s.SecretEventSeq); ok {
		op, err := eventHookOp(ev, s, r)
		op.marks.secretSeq = &ev.Seq
		return op, true, err
	}
	return Op{}, false, nil
}

func firstEvent(evs []Event, seen uint64) (Event, bool) {
	var first Event
	found := false
	for _, ev := range evs {
		if ev.Seq > seen && (!found || ev.Seq < first.Seq) {
			first, found = ev, true
		}
	}
	return first, found
}

func eventHookOp(ev Event, s State, r Snapshot) (Op, error) {
	if err := ev.Hook.Validate(); err != nil {
		return Op{}, fmt.Errorf("cannot run event %d: %w", ev.Seq, err)
	}
	if !ev.Hook.Kind.IsWorkload() && !ev.Hook.Kind.IsSecret() {
		return Op{}, fmt.Errorf("cannot run event %d: %q is not a workload or secret hook", ev.Seq, ev.Hook.Kind)
	}
	kind := OpRunHook
	if ev.LeaderOnly && !r.Leader {
		kind = OpSkipHook
	}
	return hookOp(kind, ev.Hook, s, r, true), nil
}

func actionOp(s State, r Snapshot) (Op, bool, error) {
	_, inError := s.InError()
	if !s.Installed || (s.Kind != KindContinue && !inError) {
		return Op{}, false, nil
	}
	for _, id := range r.ActionsPending {
		if !slices.Contains(s.CompletedActions, id) {
			return Op{Kind: OpRunAction, ActionID: id}, true, nil
		}
	}
	return Op{}, false, nil
}

func storageOp(s State, r Snapshot) (Op, bool, error) {
	queuedInstall := s.Kind == KindRunHook && s.Step == StepQueued && s.Hook.Kind == hook.Install
	if s.Kind != KindContinue && !queuedInstall {
		return Op{}, false, nil
	}
	alive := lifeOf(r.Life) == Alive
	for _, id := range slices.Sorted(maps.Keys(s.AttachedStorage)) {
		ss, ok := r.Storage[id]
		if !alive || !ok || lifeOf(ss.Life) != Alive {
			return hookOp(OpRunHook, hook.Info{Kind: hook.StorageDetaching, StorageID: id}, s, r, true), true, nil
		}
	}
	if !alive {
		return Op{}, false, nil
	}
	for _, id := range slices.Sorted(maps.Keys(r.Storage)) {
		ss := r.Storage[id]
		if ss.Attached && lifeOf(ss.Life) == Alive && !s.AttachedStorage[id] {
			h := hook.Info{Kind: hook.StorageAttached, StorageID: id}
			if err := h.Validate(); err != nil {
				return Op{}, false, err
			}
			return hookOp(OpRunHook, h, s, r, true), true, nil
		}
	}
	return Op{}, false, nil
}

func hookErrorOp(s State, r Snapshot) (Op, error) {
	h := *s.Hook
	if r.ForceCharmUpgrade && charmModified(s, r) {
		return Op{Kind: OpUpgrade, CharmURL: r.CharmURL, CharmModifiedVersion: r.CharmModifiedVersion}, nil
	}
	switch r.ResolvedMode {
	case ResolvedRetryHooks:
		op := hookOp(OpRunHook, h, s, r, false)
		op.ClearResolved = true
		return op, nil
	case ResolvedNoHooks:
		op := hookOp(OpSkipHook, h, s, r, false)
		op.ClearResolved = true
		return op, nil
	case ResolvedNone, "":
		if r.RetryHookVersion != s.RetryHookVersion {
			return hookOp(OpRunHook, h, s, r, false), nil
		}
		return Op{}, ErrWaiting
	}
	return Op{}, fmt.Errorf("cannot resolve hook error: unknown resolved mode %q", r.ResolvedMode)
}

// idleOp is nextOp of §2.2 item 7: the unit is idle (or install is
// queued).
func idleOp(s State, r Snapshot) (Op, error) {
	if lifeOf(r.Life) != Alive {
		if !s.Installed {
			return Op{}, ErrUnitDead
		}
		if op, ok, err := relationOp(s, r); err != nil || ok {
			return op, err
		}
		if s.Started && !s.Stopped {
			return hookOp(OpRunHook, hook.Info{Kind: hook.Stop}, s, r, true), nil
		}
		return hookOp(OpRunHook, hook.Info{Kind: hook.Remove}, s, r, true), nil
	}
	if !s.Installed {
		for _, ss := range r.Storage {
			if lifeOf(ss.Life) == Alive && !ss.Attached {
				return Op{}, ErrWaiting
			}
		}
		return hookOp(OpRunHook, hook.Info{Kind: hook.Install}, s, r, true), nil
	}
	if charmModified(s, r) {
		return Op{Kind: OpUpgrade, CharmURL: r.CharmURL, CharmModifiedVersion: r.CharmModifiedVersion}, nil
	}
	if !s.Started || s.ConfigHash != r.ConfigHash || s.TrustHash != r.TrustHash || s.AddressesHash != r.AddressesHash {
		return hookOp(OpRunHook, hook.Info{Kind: hook.ConfigChanged}, s, r, true), nil
	}
	if op, ok, err := relationOp(s, r); err != nil || ok {
		return op, err
	}
	if s.UpdateStatusVersion != r.UpdateStatusVersion {
		op := hookOp(OpRunHook, hook.Info{Kind: hook.UpdateStatus}, s, r, true)
		v := r.UpdateStatusVersion
		op.marks.updateStatus = &v
		return op, nil
	}
	return Op{}, ErrNoOperation
}
