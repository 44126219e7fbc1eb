package resolver

import (
	"fmt"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

// OpKind says what an Op asks the executor to do.
type OpKind string

// Operation kinds.
const (
	// OpDeploy deploys the charm files for the first time (CharmURL);
	// its Commit queues the install hook.
	OpDeploy OpKind = "deploy"
	// OpUpgrade replaces the charm files (CharmURL); its Commit queues
	// upgrade-charm.
	OpUpgrade OpKind = "upgrade"
	// OpRunHook runs Hook.
	OpRunHook OpKind = "run-hook"
	// OpSkipHook commits Hook without running it: resolve --no-retry, a
	// hook that already ran (step done) but was not committed, or a
	// leader-only hook for a unit that is no longer leader.
	OpSkipHook OpKind = "skip-hook"
	// OpRunAction runs action ActionID.
	OpRunAction OpKind = "run-action"
	// OpFailAction records action ActionID as failed without running it
	// again: it was interrupted by an agent restart.
	OpFailAction OpKind = "fail-action"
	// OpAcceptLeadership records leadership and queues leader-elected.
	OpAcceptLeadership OpKind = "accept-leadership"
	// OpResignLeadership records the loss of leadership; no hook runs.
	OpResignLeadership OpKind = "resign-leadership"
	// OpLeaveScope forgets a peer relation that is gone (peer relations
	// get no relation-broken); the executor leaves its scope.
	OpLeaveScope OpKind = "leave-scope"
)

// Op is one operation chosen by NextOp. Its exported fields say what to
// do; its methods compute the states to persist around doing it. Build
// Ops only with NextOp: an Op carries unexported bookkeeping taken from the
// snapshot it was chosen for.
type Op struct {
	Kind OpKind
	// Hook to run or commit (OpRunHook, OpSkipHook).
	Hook hook.Info
	// ActionID of OpRunAction and OpFailAction.
	ActionID string
	// Charm to deploy (OpDeploy, OpUpgrade).
	CharmURL             string
	CharmModifiedVersion int
	// RelationID of OpLeaveScope.
	RelationID int
	// ClearResolved asks the executor to clear the unit's resolved flag
	// on the controller before Prepare (and to set Snapshot.ResolvedMode
	// to ResolvedNone in its copy).
	ClearResolved bool

	marks marks
}

// marks is bookkeeping from the snapshot an Op was chosen for. Pointer
// fields are nil when the Op was rebuilt from persisted state alone and
// the value is unknown.
type marks struct {
	leaderSettings *int
	updateStatus   *int
	retryHook      *int
	workloadSeq    *uint64
	secretSeq      *uint64
	hashes         *hashes
	relation       *RelationState // relation-created: the entry to add
}

type hashes struct{ config, trust, addresses string }

// NeedsMachineLock reports whether the executor must hold the machine lock
// from Prepare through Commit (§8.3): true for ops that run charm code or
// change the charm directory.
func (op Op) NeedsMachineLock() bool {
	switch op.Kind {
	case OpDeploy, OpUpgrade, OpRunHook, OpRunAction:
		return true
	}
	return false
}

// String describes op for logs and the machine-lock log: "run install
// hook", "run action 12".
func (op Op) String() string {
	switch op.Kind {
	case OpDeploy:
		return "deploy charm " + op.CharmURL
	case OpUpgrade:
		return "upgrade to charm " + op.CharmURL
	case OpRunHook:
		return "run " + op.Hook.Name() + " hook"
	case OpSkipHook:
		return "skip " + op.Hook.Name() + " hook"
	case OpRunAction:
		return "run action " + op.ActionID
	case OpFailAction:
		return "fail action " + op.ActionID
	case OpAcceptLeadership:
		return "accept leadership"
	case OpResignLeadership:
		return "resign leadership"
	case OpLeaveScope:
		return fmt.Sprintf("leave scope of relation %d", op.RelationID)
	}
	return string(op.Kind)
}

// Prepare returns the state to persist before executing op. For a hook
// that is {run-hook, pending, hook}: if the agent dies from here on, the
// hook is treated as failed on restart and runs again (§8.1).
func (op Op) Prepare(s State) State {
	s = s.Clone()
	m := op.marks
	if m.leaderSettings != nil {
		s.LeaderSettingsVersion = *m.leaderSettings
	}
	if m.updateStatus != nil {
		s.UpdateStatusVersion = *m.updateStatus
	}
	if m.retryHook != nil {
		s.RetryHookVersion = *m.retryHook
	}
	if m.workloadSeq != nil {
		s.WorkloadEventSeq = *m.workloadSeq
	}
	if m.secretSeq != nil {
		s.SecretEventSeq = *m.secretSeq
	}
	if hs := m.hashes; hs != nil {
		// Recorded before running: from here on config-changed is
		// tracked by the op state until it succeeds or is skipped, so
		// the hashes it runs for must survive a crash after execution.
		s.ConfigHash, s.TrustHash, s.AddressesHash = hs.config, hs.trust, hs.addresses
	}
	switch op.Kind {
	case OpDeploy, OpUpgrade:
		s.Kind = KindInstall
		if op.Kind == OpUpgrade {
			s.Kind = KindUpgrade
		}
		s.Step = StepPending
		s.Hook, s.HookStep, s.ActionID = nil, "", ""
		s.CharmURL = op.CharmURL
		s.CharmModifiedVersion = op.CharmModifiedVersion
	case OpRunHook, OpSkipHook:
		h := op.Hook
		s.Kind, s.Hook, s.HookStep, s.ActionID = KindRunHook, &h, "", ""
		s.Step = StepPending
		if op.Kind == OpSkipHook {
			// Nothing to execute: a crash from here on commits.
			s.Step = StepDone
		}
	case OpRunAction, OpFailAction:
		if s.Kind == KindRunHook {
			s.HookStep = s.Step
		} else if s.Kind != KindRunAction {
			s.Hook, s.HookStep = nil, ""
		}
		s.Kind, s.Step, s.ActionID = KindRunAction, StepPending, op.ActionID
	}
	return s
}

// Executed returns the state to persist after executing op. ok is false
// when a hook failed (ErrHookFailed): the state stays pending, which is
// the hook error state.
func (op Op) Executed(s State, ok bool) State {
	s = s.Clone()
	if !ok {
		return s
	}
	switch op.Kind {
	case OpDeploy, OpUpgrade, OpRunHook, OpSkipHook, OpRunAction, OpFailAction:
		s.Step = StepDone
	}
	return s
}

// Terminated returns the state to persist when the agent killed a running
// hook (ErrTerminated, e.g. on shutdown): the hook is requeued and runs
// again, not as an error, when the agent resumes.
func (op Op) Terminated(s State) State {
	s = s.Clone()
	if op.Kind == OpRunHook && s.Kind == KindRunHook {
		s.Step = StepQueued
	}
	return s
}

// Commit returns the state to persist once op's effects are committed:
// usually {continue, pending}, or a queued follow-up hook: deploy queues
// install, upgrade queues upgrade-charm, upgrade-charm queues
// config-changed, config-changed queues start while the unit is not
// started, accept-leadership queues leader-elected.
func (op Op) Commit(s State) State {
	s = s.Clone()
	s.HookContext = ""
	switch op.Kind {
	case OpDeploy:
		return queue(s, hook.Info{Kind: hook.Install})
	case OpUpgrade:
		return queue(s, hook.Info{Kind: hook.UpgradeCharm})
	case OpRunHook, OpSkipHook:
		return op.commitHook(s)
	case OpRunAction, OpFailAction:
		s.CompletedActions = append(s.CompletedActions, op.ActionID)
		if n := len(s.CompletedActions); n > maxCompletedActions {
			s.CompletedActions = s.CompletedActions[n-maxCompletedActions:]
		}
		s.ActionID = ""
		if s.Hook != nil && s.HookStep != "" {
			s.Kind, s.Step, s.HookStep = KindRunHook, s.HookStep, ""
			return s
		}
		return idle(s)
	case OpAcceptLeadership:
		if s.Leader {
			return s
		}
		s.Leader = true
		return queue(s, hook.Info{Kind: hook.LeaderElected})
	case OpResignLeadership:
		s.Leader = false
		// A leader ignores leader-settings changes; mark the current
		// version seen so that losing leadership runs no hook.
		if op.marks.leaderSettings != nil {
			s.LeaderSettingsVersion = *op.marks.leaderSettings
		}
	case OpLeaveScope:
		delete(s.Relations, op.RelationID)
	}
	return s
}

func (op Op) commitHook(s State) State {
	h := op.Hook
	rel := s.Relations[h.RelationID]
	switch h.Kind {
	case hook.Install:
		s.Installed = true
	case hook.Start:
		s.Started = true
	case hook.Stop:
		s.Stopped = true
	case hook.Remove:
		s.Removed = true
	case hook.UpgradeCharm:
		return queue(s, hook.Info{Kind: hook.ConfigChanged})
	case hook.ConfigChanged:
		if !s.Started {
			return queue(s, hook.Info{Kind: hook.Start})
		}
	case hook.RelationCreated:
		r := op.marks.relation.clone()
		if r == nil {
			r = &RelationState{Endpoint: h.Endpoint, RemoteApp: h.RemoteApp}
		}
		r.Created = true
		if s.Relations == nil {
			s.Relations = map[int]*RelationState{}
		}
		s.Relations[h.RelationID] = r
	case hook.RelationJoined:
		if rel != nil {
			setVersion(&rel.Members, h.RemoteUnit, h.ChangeVersion)
			rel.ChangedPending = h.RemoteUnit
		}
	case hook.RelationChanged:
		if rel == nil {
			break
		}
		if h.RemoteUnit == "" {
			setVersion(&rel.AppMembers, h.RemoteApp, h.ChangeVersion)
			break
		}
		if _, known := rel.Members[h.RemoteUnit]; known {
			setVersion(&rel.Members, h.RemoteUnit, h.ChangeVersion)
		}
		if rel.ChangedPending == h.RemoteUnit {
			rel.ChangedPending = ""
		}
	case hook.RelationDeparted:
		if rel != nil {
			delete(rel.Members, h.RemoteUnit)
			if rel.ChangedPending == h.RemoteUnit {
				rel.ChangedPending = ""
			}
		}
	case hook.RelationBroken:
		delete(s.Relations, h.RelationID)
	case hook.StorageAttached:
		if s.AttachedStorage == nil {
			s.AttachedStorage = map[string]bool{}
		}
		s.AttachedStorage[h.StorageID] = true
	case hook.StorageDetaching:
		delete(s.AttachedStorage, h.StorageID)
	}
	return idle(s)
}

func setVersion(m *map[string]int64, k string, v int64) {
	if *m == nil {
		*m = map[string]int64{}
	}
	(*m)[k] = v
}

func queue(s State, h hook.Info) State {
	s.Kind, s.Step, s.Hook, s.HookStep, s.ActionID = KindRunHook, StepQueued, &h, "", ""
	return s
}

func idle(s State) State {
	s.Kind, s.Step, s.Hook, s.HookStep, s.ActionID = KindContinue, StepPending, nil, "", ""
	return s
}
