package resolver_test

import (
	"errors"
	"testing"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

func running() resolver.State {
	return resolver.State{Kind: resolver.KindContinue, Step: resolver.StepPending, CharmURL: "local:a-1",
		Installed: true, Started: true, ConfigHash: "c"}
}

func TestNextOpEdges(t *testing.T) {
	snap := resolver.Snapshot{UnitName: "a/0", CharmURL: "local:a-1", ConfigHash: "c"}
	queued := func(k hook.Kind) resolver.State {
		s := running()
		s.Kind, s.Step, s.Hook = resolver.KindRunHook, resolver.StepQueued, &hook.Info{Kind: k}
		return s
	}
	with := func(f func(*resolver.Snapshot)) resolver.Snapshot {
		r := snap
		f(&r)
		return r
	}
	tests := []struct {
		name    string
		s       resolver.State
		r       resolver.Snapshot
		wantErr error
		wantOp  resolver.OpKind
	}{
		{"dead unit", running(), with(func(r *resolver.Snapshot) { r.Life = resolver.Dead }), resolver.ErrUnitDead, ""},
		{"dying before deploy", resolver.State{}, with(func(r *resolver.Snapshot) { r.Life = resolver.Dying }), resolver.ErrUnitDead, ""},
		{"dying with install queued", func() resolver.State {
			s := queued(hook.Install)
			s.Installed, s.Started = false, false
			return s
		}(), with(func(r *resolver.Snapshot) { r.Life = resolver.Dying }), resolver.ErrUnitDead, ""},
		{"no charm yet", resolver.State{}, resolver.Snapshot{UnitName: "a/0"}, resolver.ErrWaiting, ""},
		{"interrupted deploy resumes", resolver.State{Kind: resolver.KindInstall, Step: resolver.StepPending, CharmURL: "local:a-1"}, snap, nil, resolver.OpDeploy},
		{"interrupted upgrade resumes", func() resolver.State {
			s := running()
			s.Kind = resolver.KindUpgrade
			return s
		}(), snap, nil, resolver.OpUpgrade},
		{"queued leader-elected, no longer leader", queued(hook.LeaderElected), snap, nil, resolver.OpSkipHook},
		{"queued start runs while dying", queued(hook.Start), with(func(r *resolver.Snapshot) { r.Life = resolver.Dying }), nil, resolver.OpRunHook},
		{"done hook is only committed", func() resolver.State {
			s := queued(hook.Start)
			s.Step = resolver.StepDone
			return s
		}(), snap, nil, resolver.OpSkipHook},
		{"removed unit", func() resolver.State { s := running(); s.Removed = true; return s }(), snap, resolver.ErrUnitDead, ""},
		{"force upgrade while in error", func() resolver.State {
			s := queued(hook.ConfigChanged)
			s.Step = resolver.StepPending
			return s
		}(), with(func(r *resolver.Snapshot) { r.CharmURL, r.ForceCharmUpgrade = "local:a-2", true }), nil, resolver.OpUpgrade},
		{"upgrade waits while in error without force", func() resolver.State {
			s := queued(hook.ConfigChanged)
			s.Step = resolver.StepPending
			return s
		}(), with(func(r *resolver.Snapshot) { r.CharmURL = "local:a-2" }), resolver.ErrWaiting, ""},
		{"idle", running(), snap, resolver.ErrNoOperation, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, err := resolver.NextOp(tt.s, tt.r)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("NextOp() error = %v, want %v", err, tt.wantErr)
			}
			if op.Kind != tt.wantOp {
				t.Errorf("NextOp() = %s, want kind %q", op, tt.wantOp)
			}
		})
	}
}

func TestNextOpRejectsUnknownKind(t *testing.T) {
	if _, err := resolver.NextOp(resolver.State{Kind: "dance"}, resolver.Snapshot{}); err == nil {
		t.Fatal("NextOp accepted an unknown operation kind")
	}
}

func TestTransitionsDoNotAlias(t *testing.T) {
	s := running()
	s.Relations = map[int]*resolver.RelationState{1: {Endpoint: "db", RemoteApp: "m", Created: true}}
	r := resolver.Snapshot{UnitName: "a/0", CharmURL: "local:a-1", ConfigHash: "c",
		Relations: map[int]resolver.RelationSnapshot{1: {Endpoint: "db", RemoteApp: "m", Members: map[string]int64{"m/0": 1}}}}
	op, err := resolver.NextOp(s, r)
	if err != nil || op.Hook.Kind != hook.RelationJoined {
		t.Fatalf("NextOp() = %s, %v; want db-relation-joined", op, err)
	}
	next := op.Commit(op.Executed(op.Prepare(s), true))
	if len(s.Relations[1].Members) != 0 || s.Kind != resolver.KindContinue {
		t.Errorf("transitions modified their argument: %+v", s.Relations[1])
	}
	if next.Relations[1].Members["m/0"] != 1 || next.Relations[1].ChangedPending != "m/0" {
		t.Errorf("joined commit = %+v, want member m/0 at 1 with changed pending", next.Relations[1])
	}
}

// TestNoLeaderSettingsChangedAfterStop: a non-leader's leader-settings
// version is in memory, so an agent restarted between stop and remove
// saw a difference and ran leader-settings-changed in between (the crash
// test's kvclient/1 ledger: … stop stop leader-settings-changed remove);
// only remove runs after stop.
func TestNoLeaderSettingsChangedAfterStop(t *testing.T) {
	s := running()
	s.Stopped = true
	r := resolver.Snapshot{UnitName: "a/0", CharmURL: "local:a-1", ConfigHash: "c", Life: resolver.Dying, LeaderSettingsVersion: 1}
	op, err := resolver.NextOp(s, r)
	if err != nil || op.Kind != resolver.OpRunHook || op.Hook.Kind != hook.Remove {
		t.Fatalf("NextOp after stop = %s, %v; want the remove hook", op, err)
	}
	s.Stopped = false
	r.Life = resolver.Alive
	if op, err := resolver.NextOp(s, r); err != nil || op.Hook.Kind != hook.LeaderSettingsChanged {
		t.Fatalf("NextOp of a running non-leader after a restart = %s, %v; want leader-settings-changed", op, err)
	}
}
