package resolver

import "errors"

// Sentinel results of NextOp.
var (
	// ErrNoOperation: the unit has converged to the snapshot; wait for the
	// snapshot to change.
	ErrNoOperation = errors.New("resolver: no operation")
	// ErrWaiting: the unit is blocked on something outside the resolver:
	// a hook in error waiting for resolve or the retry timer (see
	// State.InError), or storage not yet provisioned before install.
	// Wait for the snapshot to change.
	ErrWaiting = errors.New("resolver: waiting")
	// ErrUnitDead: the unit is dead, or dying and torn down (remove
	// committed, or never installed). The caller marks the unit Dead and
	// stops the uniter.
	ErrUnitDead = errors.New("resolver: unit dead")
)

// Errors the executor's callbacks return (wrapped or bare) to say how a
// hook or action ended.
var (
	// ErrHookFailed: the hook process exited non-zero; its buffered
	// effects were discarded. The unit enters the hook error state.
	ErrHookFailed = errors.New("resolver: hook failed")
	// ErrTerminated: the agent killed the hook or action process (e.g. on
	// shutdown). A hook is requeued and runs again on resume.
	ErrTerminated = errors.New("resolver: process terminated by the agent")
)
