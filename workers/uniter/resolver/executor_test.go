package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/opstate"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

var errCrash = errors.New("simulated crash")

// fakeCallbacks records what the executor asks for. crashRunAt makes the
// Nth RunHook call (1-based) record the run and then return errCrash, as
// if the agent died while the hook process was running.
type fakeCallbacks struct {
	t          *testing.T
	locked     bool
	runs       []string
	runCalls   int
	crashRunAt int
	fail       map[string]int
	terminate  map[string]int
	statuses   []string
	cleared    int
	leftScope  []int
	actions    []string
	failed     []string
	committed  []string // hook@context of each CommitHook
}

func (f *fakeCallbacks) AcquireMachineLock(ctx context.Context, why string) (func(), error) {
	if f.locked {
		f.t.Errorf("machine lock acquired twice (for %s)", why)
	}
	f.locked = true
	return func() { f.locked = false }, nil
}

func (f *fakeCallbacks) ClearResolved(context.Context) error { f.cleared++; return nil }

func (f *fakeCallbacks) DeployCharm(ctx context.Context, url string, v int, upgrade bool) error {
	if !f.locked {
		f.t.Errorf("charm deployed without the machine lock")
	}
	return nil
}

func (f *fakeCallbacks) RunHook(ctx context.Context, h hook.Info) error {
	if !f.locked {
		f.t.Errorf("hook %s run without the machine lock", h.Name())
	}
	f.runCalls++
	f.runs = append(f.runs, h.Name())
	switch {
	case f.runCalls == f.crashRunAt:
		return errCrash
	case f.fail[h.Name()] > 0:
		f.fail[h.Name()]--
		return fmt.Errorf("exit status 1: %w", resolver.ErrHookFailed)
	case f.terminate[h.Name()] > 0:
		f.terminate[h.Name()]--
		return fmt.Errorf("signal: killed: %w", resolver.ErrTerminated)
	}
	return nil
}

func (f *fakeCallbacks) CommitHook(_ context.Context, h hook.Info, contextID string) error {
	f.committed = append(f.committed, h.Name()+"@"+contextID)
	return nil
}

func (f *fakeCallbacks) HookContext() string { return fmt.Sprintf("ctx-%d", f.runCalls) }

func (f *fakeCallbacks) LeaveScope(ctx context.Context, id int) error {
	f.leftScope = append(f.leftScope, id)
	return nil
}

func (f *fakeCallbacks) RunAction(ctx context.Context, id string) error {
	f.actions = append(f.actions, id)
	return nil
}

func (f *fakeCallbacks) FailAction(ctx context.Context, id, msg string) error {
	f.failed = append(f.failed, id)
	return nil
}

func (f *fakeCallbacks) SetAgentStatus(ctx context.Context, st resolver.AgentStatus, msg string, data map[string]any) error {
	f.statuses = append(f.statuses, fmt.Sprintf("%s %s", st, msg))
	return nil
}

// crashingStore persists through a real store, then fails the crashAt-th
// Save (1-based) as if the agent died right after the fsync.
type crashingStore struct {
	store   *opstate.Store
	crashAt int
	saves   int
}

func (c *crashingStore) Save(s resolver.State) error {
	if err := c.store.Save(s); err != nil {
		return err
	}
	c.saves++
	if c.saves == c.crashAt {
		return errCrash
	}
	return nil
}

func deploySnapshot() resolver.Snapshot {
	return resolver.Snapshot{
		UnitName: "app/0", CharmURL: "local:app-1", ConfigHash: "c1",
		Leader: true, LeaderSettingsVersion: 1,
		Relations: map[int]resolver.RelationSnapshot{
			3: {Endpoint: "db", RemoteApp: "mysql", Members: map[string]int64{"mysql/0": 1}},
		},
	}
}

// converge plays the uniter loop: it runs ops until the resolver is idle,
// bumping the retry counter (the retry timer) whenever a hook is in error.
func converge(t *testing.T, ex *resolver.Executor, s resolver.State, snap *resolver.Snapshot) (resolver.State, error) {
	t.Helper()
	for range 100 {
		op, err := resolver.NextOp(s, *snap)
		switch {
		case errors.Is(err, resolver.ErrNoOperation):
			return s, nil
		case errors.Is(err, resolver.ErrWaiting):
			if _, inError := s.InError(); !inError {
				t.Fatalf("waiting outside the error state")
			}
			snap.RetryHookVersion++
			continue
		case err != nil:
			t.Fatalf("NextOp: %v", err)
		}
		if op.ClearResolved {
			snap.ResolvedMode = resolver.ResolvedNone
		}
		if s, err = ex.Run(context.Background(), s, op); err != nil {
			return s, err
		}
	}
	t.Fatalf("no quiescence after 100 operations")
	return s, nil
}

func openStore(t *testing.T, path string) *opstate.Store {
	t.Helper()
	st, err := opstate.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestExecutorCrashAtEveryStep(t *testing.T) {
	// Reference run without crashes.
	refPath := filepath.Join(t.TempDir(), "state")
	refCB := &fakeCallbacks{t: t}
	refStore := &crashingStore{store: openStore(t, refPath)}
	snap := deploySnapshot()
	_, err := converge(t, &resolver.Executor{Store: refStore, Callbacks: refCB}, resolver.State{}, &snap)
	if err != nil {
		t.Fatal(err)
	}
	wantRuns := []string{"install", "db-relation-created", "leader-elected", "config-changed", "start",
		"db-relation-joined", "db-relation-changed"}
	if !slices.Equal(refCB.runs, wantRuns) {
		t.Fatalf("reference run = %v, want %v", refCB.runs, wantRuns)
	}
	wantFinal, _, err := openStore(t, refPath).Load()
	if err != nil {
		t.Fatal(err)
	}

	type crash struct {
		afterSave, duringRun int
	}
	var crashes []crash
	for n := 1; n <= refStore.saves; n++ {
		crashes = append(crashes, crash{afterSave: n})
	}
	for n := 1; n <= len(wantRuns); n++ {
		crashes = append(crashes, crash{duringRun: n})
	}
	for _, c := range crashes {
		t.Run(fmt.Sprintf("save%d-run%d", c.afterSave, c.duringRun), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state")
			cb := &fakeCallbacks{t: t, crashRunAt: c.duringRun}
			snap := deploySnapshot()
			_, err := converge(t, &resolver.Executor{
				Store: &crashingStore{store: openStore(t, path), crashAt: c.afterSave}, Callbacks: cb,
			}, resolver.State{}, &snap)
			if !errors.Is(err, errCrash) {
				t.Fatalf("converge() = %v, want the simulated crash", err)
			}
			beforeCrash := len(cb.runs)

			// Restart: a new process loads the state; in-memory counters
			// start again.
			cb.locked, cb.crashRunAt = false, 0
			s, found, err := openStore(t, path).Load()
			if err != nil || !found {
				t.Fatalf("Load() after crash = found %v, err %v", found, err)
			}
			snap = deploySnapshot()
			if _, err := converge(t, &resolver.Executor{Store: openStore(t, path), Callbacks: cb}, s, &snap); err != nil {
				t.Fatalf("resume: %v", err)
			}

			got, _, err := openStore(t, path).Load()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, wantFinal) {
				t.Errorf("final state after resume = %+v\nwant %+v", got, wantFinal)
			}
			want := slices.Clone(wantRuns)
			if c.duringRun > 0 {
				// The interrupted hook runs again; nothing else does.
				i := c.duringRun - 1
				want = slices.Insert(want, i, wantRuns[i])
				if beforeCrash != c.duringRun {
					t.Fatalf("crash happened after %d runs, want %d", beforeCrash, c.duringRun)
				}
			}
			if !slices.Equal(cb.runs, want) {
				t.Errorf("hooks run = %v\nwant %v", cb.runs, want)
			}
			// Every completed run commits naming its own context, also
			// when the commit resumes after a crash (the "hook
			// committed" log line the e2e crash test reads).
			contexts := map[string]bool{}
			for _, c := range cb.committed {
				if _, ctxID, _ := strings.Cut(c, "@"); ctxID != "" {
					contexts[ctxID] = true
				}
			}
			if len(contexts) != len(wantRuns) {
				t.Errorf("commits %v name %d run contexts, want one per completed run (%d)", cb.committed, len(contexts), len(wantRuns))
			}
		})
	}
}

func TestExecutorHookFailureAndResolve(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	cb := &fakeCallbacks{t: t, fail: map[string]int{"install": 1}}
	ex := &resolver.Executor{Store: openStore(t, path), Callbacks: cb}
	snap := deploySnapshot()
	snap.Relations = nil
	ctx := context.Background()

	var s resolver.State
	for range 2 { // deploy, then install (fails)
		op, err := resolver.NextOp(s, snap)
		if err != nil {
			t.Fatal(err)
		}
		if s, err = ex.Run(ctx, s, op); err != nil {
			t.Fatalf("Run(%s) = %v, want nil for a hook failure", op, err)
		}
	}
	h, inError := s.InError()
	if !inError || h.Kind != hook.Install {
		t.Fatalf("after a failed install InError() = %v, %v", h, inError)
	}
	if last := cb.statuses[len(cb.statuses)-1]; last != `error hook failed: "install"` {
		t.Errorf("last status = %q", last)
	}
	if persisted, _, _ := openStore(t, path).Load(); persisted.Step != resolver.StepPending || persisted.Kind != resolver.KindRunHook {
		t.Errorf("persisted state after failure = %s/%s, want run-hook/pending", persisted.Kind, persisted.Step)
	}
	if _, err := resolver.NextOp(s, snap); !errors.Is(err, resolver.ErrWaiting) {
		t.Fatalf("NextOp in error = %v, want ErrWaiting", err)
	}

	snap.ResolvedMode = resolver.ResolvedRetryHooks
	op, err := resolver.NextOp(s, snap)
	if err != nil || op.Kind != resolver.OpRunHook || !op.ClearResolved {
		t.Fatalf("NextOp after resolve = %+v, %v", op, err)
	}
	if s, err = ex.Run(ctx, s, op); err != nil {
		t.Fatal(err)
	}
	if cb.cleared != 1 || !s.Installed {
		t.Errorf("after resolve: cleared %d times, installed %v", cb.cleared, s.Installed)
	}
	// The retried hook reported executing; idle is the run loop's to
	// report once nothing is left to do, and nothing reports error again.
	if last := cb.statuses[len(cb.statuses)-1]; last != "executing running install hook" {
		t.Errorf("last status = %q, want the retried hook executing", last)
	}
}

func TestExecutorTerminatedHookIsRequeued(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	cb := &fakeCallbacks{t: t, terminate: map[string]int{"install": 1}}
	snap := deploySnapshot()
	snap.Relations = nil
	_, err := converge(t, &resolver.Executor{Store: openStore(t, path), Callbacks: cb}, resolver.State{}, &snap)
	if !errors.Is(err, resolver.ErrTerminated) {
		t.Fatalf("converge() = %v, want ErrTerminated", err)
	}
	s, _, err := openStore(t, path).Load()
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != resolver.KindRunHook || s.Step != resolver.StepQueued || s.Hook.Kind != hook.Install {
		t.Fatalf("persisted state after termination = %+v, want install queued", s)
	}
	if _, inError := s.InError(); inError {
		t.Fatalf("a terminated hook must not be an error")
	}
	snap = deploySnapshot()
	snap.Relations = nil
	if _, err := converge(t, &resolver.Executor{Store: openStore(t, path), Callbacks: cb}, s, &snap); err != nil {
		t.Fatal(err)
	}
	want := []string{"install", "install", "leader-elected", "config-changed", "start"}
	if !slices.Equal(cb.runs, want) {
		t.Errorf("hooks run = %v, want %v", cb.runs, want)
	}
}

func TestExecutorLeaveScopeAfterBroken(t *testing.T) {
	cb := &fakeCallbacks{t: t}
	ex := &resolver.Executor{Store: openStore(t, filepath.Join(t.TempDir(), "state")), Callbacks: cb}
	snap := deploySnapshot()
	s, err := converge(t, ex, resolver.State{}, &snap)
	if err != nil {
		t.Fatal(err)
	}
	delete(snap.Relations, 3)
	if _, err := converge(t, ex, s, &snap); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cb.leftScope, []int{3}) {
		t.Errorf("left scope of %v, want [3]", cb.leftScope)
	}
}
