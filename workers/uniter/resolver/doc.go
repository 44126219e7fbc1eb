// Package resolver is the pure core of the uniter: it decides which
// operation a unit performs next and how each operation changes the unit's
// durable operation state.
//
// # Problem
//
// A unit agent must run its charm's hooks in the order the Juju contract
// fixes (juju-contract.md §2.2-2.4, §6, §7, §8.1), one at a time, and must
// survive being killed at any instant: a hook that was interrupted runs
// again, a hook that committed never does.
//
// # Model
//
// The uniter is a level-triggered reconciler. State is what the unit has
// done (persisted after every step; a few counters are in-memory only).
// Snapshot is what the controller, timers and Pebble pollers say it should
// converge to. NextOp(State, Snapshot) picks exactly one Op, or returns
// ErrNoOperation (converged), ErrWaiting (blocked on resolve, the retry
// timer or storage provisioning) or ErrUnitDead (tear-down finished).
// An Op carries pure transitions the executor applies and persists:
//
//	s1 := op.Prepare(s0)       persist   {run-hook, pending, hook}
//	run it
//	s2 := op.Executed(s1, ok)  persist   done; or still pending if the hook failed
//	      op.Terminated(s1)    persist   queued, if the agent killed the hook
//	s3 := op.Commit(s2)        persist   {continue} or a queued follow-up hook
//
// # Executor protocol
//
// The caller persists the State returned by each of Prepare, Executed and
// Commit (with fsync; package opstate does this) before taking the next
// step, holding the machine lock from Prepare through Commit when
// Op.NeedsMachineLock. When Op.ClearResolved is set it clears the unit's
// resolved flag on the controller first. Executor does all of this against
// the Callbacks interface; a caller may also drive the transitions itself.
//
// Resuming after a restart needs nothing special: load the State and call
// NextOp. Per §8.1, run-hook/queued runs the hook; run-hook/pending is the
// hook error state (the interrupted hook is treated as failed: the caller
// reports the error, and the retry timer or `resolve` re-runs it);
// run-hook/done only commits; an interrupted deploy or upgrade is redone;
// an interrupted action is failed (OpFailAction), never re-run, and the
// hook error state it interleaved with is restored. A hook killed by the
// agent (ErrTerminated) is requeued, so it runs again without an error.
//
// The caller also owns the timers: it bumps Snapshot.UpdateStatusVersion
// on the update-status interval, and while State.InError holds (and
// automatically-retry-hooks is on) bumps Snapshot.RetryHookVersion with
// exponential backoff (5 s to 5 min, factor 2, jitter; §8.4), resetting
// the backoff when InError stops holding.
//
// # Invariants
//
//   - NextOp and the Op transitions are pure and deterministic; they never
//     modify their arguments.
//   - While a hook is in error no other hook runs; actions still do.
//   - Relation hooks run only after start, non-peer relations before peer
//     relations, each relation in the order (a)-(f) of §2.2; peers never
//     get relation-broken.
//   - config-changed runs once after install and after upgrade-charm, and
//     otherwise only when a hash differs from the one recorded at its last
//     Prepare; hashes are persisted, so a restart does not re-run it.
//
// # Testing
//
// testdata/*.yaml are scenarios (initial state, snapshot, steps); each has
// a hand-reviewed testdata/*.golden with the exact operations and hook
// environments expected. `go test -run TestGolden -update` regenerates the
// goldens; review every diff against the spec before keeping it. The
// executor is tested with a real opstate store and a crash after every
// persisted step and inside every hook run.
//
// Imported by the uniter worker only. This package never performs IO
// (except through Executor's injected Persister and Callbacks), never
// reads the clock and never talks to the controller.
package resolver
