package resolver

import (
	"context"
	"errors"
	"fmt"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

// AgentStatus is the unit agent status the executor reports.
type AgentStatus string

// Agent statuses set by the executor.
const (
	StatusExecuting AgentStatus = "executing"
	StatusIdle      AgentStatus = "idle"
	StatusError     AgentStatus = "error"
)

// Persister stores State durably. *opstate.Store implements it.
type Persister interface {
	// Save durably records s before returning (fsync); it may skip the
	// write when s equals the last saved state. After an error the
	// executor stops and the uniter must restart from what was last saved.
	Save(s State) error
}

// Callbacks are the side effects the executor needs; the uniter worker
// implements them. Every method may block, must honour ctx, and must be
// idempotent where noted, because a crash can make the executor call it
// again for the same operation after a restart.
type Callbacks interface {
	// AcquireMachineLock blocks until the machine lock is held (§8.3) and
	// returns the function that releases it. why is Op.String().
	AcquireMachineLock(ctx context.Context, why string) (release func(), err error)
	// ClearResolved clears the unit's resolved flag on the controller.
	ClearResolved(ctx context.Context) error
	// DeployCharm makes the charm directory hold charmURL (download,
	// verify, swap). upgrade is false for the first deploy. Idempotent.
	DeployCharm(ctx context.Context, charmURL string, modifiedVersion int, upgrade bool) error
	// RunHook runs the hook process and, if it exits 0, commits its
	// buffered effects to the controller (§3.3) before returning nil.
	// It returns an error wrapping ErrHookFailed when the process exits
	// non-zero (effects discarded), one wrapping ErrTerminated when the
	// agent killed it, and any other error when the hook could not be run
	// at all. A hook with no handler in the charm succeeds.
	RunHook(ctx context.Context, h hook.Info) error
	// HookContext is the context id (JUJU_CONTEXT_ID) the last RunHook
	// ran its hook with; the executor persists it with the hook's done
	// step, so a commit resumed after a crash still names the run.
	HookContext() string
	// CommitHook is called after a hook ran successfully or was skipped,
	// before its commit is persisted: refresh caches, report relation
	// status. contextID is the run's (HookContext), "" for a hook
	// skipped without running. Idempotent; it never publishes the hook's
	// buffered effects (RunHook did).
	CommitHook(ctx context.Context, h hook.Info, contextID string) error
	// LeaveScope leaves the scope of a relation on the controller, after
	// relation-broken or when a peer relation is forgotten. Idempotent.
	LeaveScope(ctx context.Context, relationID int) error
	// RunAction runs the action and records its result (success or
	// failure of the action itself). It returns an error only when the
	// action could not be run or its result not recorded; one wrapping
	// ErrTerminated when the agent killed it.
	RunAction(ctx context.Context, id string) error
	// FailAction records the action as failed with message, without
	// running it. Idempotent.
	FailAction(ctx context.Context, id, message string) error
	// SetAgentStatus reports the unit agent status; data is set for
	// StatusError (hook, relation-id, remote-unit, secret-uri,
	// secret-label).
	SetAgentStatus(ctx context.Context, status AgentStatus, message string, data map[string]any) error
}

// Executor runs one Op at a time, persisting State around every step:
//
//	lock ─▶ ClearResolved? ─▶ Prepare ─▶ save ─▶ execute ─▶ Executed ─▶ save ─▶ commit callbacks ─▶ Commit ─▶ save ─▶ unlock
//
// A crash after any save resumes correctly from the saved state because
// NextOp reads it: a prepared (pending) hook is treated as failed and runs
// again after retry or resolve; an executed (done) hook is only committed;
// a committed hook never runs again. An interrupted action is failed, not
// re-run.
type Executor struct {
	Store     Persister
	Callbacks Callbacks
}

// Run executes op starting from state s and returns the last state it
// persisted. A hook failure is not an error: Run returns the error state
// (see State.InError) and a nil error. Errors (including ones wrapping
// ErrTerminated) mean the caller must stop and resume later from the
// returned state, which is what was last persisted.
func (e *Executor) Run(ctx context.Context, s State, op Op) (State, error) {
	cb := e.Callbacks
	if op.NeedsMachineLock() {
		release, err := cb.AcquireMachineLock(ctx, op.String())
		if err != nil {
			return s, fmt.Errorf("cannot %s: cannot acquire machine lock: %w", op, err)
		}
		defer release()
	}
	if op.ClearResolved {
		if err := cb.ClearResolved(ctx); err != nil {
			return s, fmt.Errorf("cannot %s: cannot clear resolved flag: %w", op, err)
		}
	}
	save := func(next State) error {
		if err := e.Store.Save(next); err != nil {
			return fmt.Errorf("cannot %s: cannot save uniter state: %w", op, err)
		}
		s = next
		return nil
	}
	if err := save(op.Prepare(s)); err != nil {
		return s, err
	}

	switch op.Kind {
	case OpDeploy, OpUpgrade:
		if err := cb.DeployCharm(ctx, op.CharmURL, op.CharmModifiedVersion, op.Kind == OpUpgrade); err != nil {
			return s, fmt.Errorf("cannot %s: %w", op, err)
		}
	case OpRunHook:
		if op.Hook.Kind != hook.UpdateStatus {
			msg := fmt.Sprintf("running %s hook", op.Hook.Name())
			if err := cb.SetAgentStatus(ctx, StatusExecuting, msg, nil); err != nil {
				return s, fmt.Errorf("cannot %s: %w", op, err)
			}
		}
		err := cb.RunHook(ctx, op.Hook)
		switch {
		case errors.Is(err, ErrHookFailed):
			if err := save(op.Executed(s, false)); err != nil {
				return s, err
			}
			msg, data := HookErrorStatus(op.Hook)
			if err := cb.SetAgentStatus(ctx, StatusError, msg, data); err != nil {
				return s, fmt.Errorf("cannot report hook failure: %w", err)
			}
			return s, nil
		case errors.Is(err, ErrTerminated):
			if serr := save(op.Terminated(s)); serr != nil {
				return s, serr
			}
			return s, fmt.Errorf("cannot %s: %w", op, err)
		case err != nil:
			return s, fmt.Errorf("cannot %s: %w", op, err)
		}
	case OpRunAction:
		if err := cb.SetAgentStatus(ctx, StatusExecuting, "running action "+op.ActionID, nil); err != nil {
			return s, fmt.Errorf("cannot %s: %w", op, err)
		}
		if err := cb.RunAction(ctx, op.ActionID); err != nil {
			return s, fmt.Errorf("cannot %s: %w", op, err)
		}
	case OpFailAction:
		if err := cb.FailAction(ctx, op.ActionID, "action interrupted by an agent restart"); err != nil {
			return s, fmt.Errorf("cannot %s: %w", op, err)
		}
	}
	executed := op.Executed(s, true)
	if op.Kind == OpRunHook {
		executed.HookContext = cb.HookContext()
	}
	if err := save(executed); err != nil {
		return s, err
	}

	switch op.Kind {
	case OpRunHook, OpSkipHook:
		if err := cb.CommitHook(ctx, op.Hook, s.HookContext); err != nil {
			return s, fmt.Errorf("cannot commit %s hook: %w", op.Hook.Name(), err)
		}
		if op.Hook.Kind == hook.RelationBroken {
			if err := cb.LeaveScope(ctx, op.Hook.RelationID); err != nil {
				return s, fmt.Errorf("cannot commit %s hook: %w", op.Hook.Name(), err)
			}
		}
	case OpLeaveScope:
		if err := cb.LeaveScope(ctx, op.RelationID); err != nil {
			return s, fmt.Errorf("cannot %s: %w", op, err)
		}
	}
	if err := save(op.Commit(s)); err != nil {
		return s, err
	}
	// Idle is the run loop's to report, once no operation is left (a
	// deploy's hooks run back to back, executing each). An action run in
	// the hook error state reports the error again here: the loop does
	// not report status in error.
	if op.Kind == OpRunHook || op.Kind == OpRunAction || op.ClearResolved {
		if h, inError := s.InError(); inError {
			msg, data := HookErrorStatus(h)
			if err := cb.SetAgentStatus(ctx, StatusError, msg, data); err != nil {
				return s, fmt.Errorf("cannot report agent status: %w", err)
			}
		}
	}
	return s, nil
}

// HookErrorStatus returns the agent status message and data for a failed
// hook (§2.4): `hook failed: "<hook-name>"`.
func HookErrorStatus(h hook.Info) (string, map[string]any) {
	data := map[string]any{"hook": h.Name()}
	if h.Kind.IsRelation() {
		data["relation-id"] = h.RelationID
		if h.RemoteUnit != "" {
			data["remote-unit"] = h.RemoteUnit
		}
	}
	if h.Kind.IsSecret() {
		data["secret-uri"] = h.SecretURI
		if h.SecretLabel != "" {
			data["secret-label"] = h.SecretLabel
		}
	}
	return fmt.Sprintf("hook failed: %q", h.Name()), data
}
