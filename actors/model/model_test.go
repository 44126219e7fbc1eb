package model_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/machine"
	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/supervise"
	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// guardian runs a real model guardian on a real embedded etcd.
func guardian(t *testing.T) (*store.Store, *actor.RootContext, *actor.PID) {
	t.Helper()
	s, sys, pid := setup(t)
	return s, sys.Root, pid
}

func ask[R any](t *testing.T, root *actor.RootContext, pid *actor.PID, msg any) (R, error) {
	t.Helper()
	return supervise.Ask[R](root, pid, msg, 10*time.Second)
}

func deploy(name string, n int, to ...string) *model.Deploy {
	return &model.Deploy{Charm: ent.Charm{Name: "c", SHA256: "x"}, App: ent.Application{Name: name}, NumUnits: n, To: to}
}

func unitMachine(t *testing.T, s *store.Store, unit string) string {
	t.Helper()
	var u ent.Unit
	if _, err := s.Get(context.Background(), ent.UnitKey(uuid, unit), &u); err != nil {
		t.Fatalf("unit %s: %v", unit, err)
	}
	return u.Machine
}

func TestPlacementOnExistingMachines(t *testing.T) {
	s, root, pid := guardian(t)
	res, err := ask[*model.Deployed](t, root, pid, deploy("a", 1))
	if err != nil || len(res.Machines) != 1 || res.Machines[0] != "0" {
		t.Fatalf("deploy: %+v %v", res, err)
	}
	added, err := ask[*model.UnitsAdded](t, root, pid, &model.AddUnits{App: "a", NumUnits: 4, To: []string{"0", "0", "0"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a/1": "0", "a/2": "0", "a/3": "0", "a/4": "1"}
	for _, u := range added.Units {
		if got := unitMachine(t, s, u); got != want[u] {
			t.Errorf("%s on machine %s, want %s", u, got, want[u])
		}
	}
	ms, err := ask[*model.MachinesAdded](t, root, pid, &model.AddMachines{N: 2})
	if err != nil || strings.Join(ms.Machines, ",") != "2,3" {
		t.Fatalf("add-machine: %+v %v", ms, err)
	}
	var m ent.Machine
	if _, err := s.Get(context.Background(), ent.MachineKey(uuid, "3"), &m); err != nil || !m.Standalone || m.Life != ent.Alive {
		t.Fatalf("machine 3: %+v %v, want alive and standalone", m, err)
	}
	if _, err := ask[*model.Deployed](t, root, pid, deploy("b", 1, "3")); err != nil {
		t.Fatal(err)
	}
	if got := unitMachine(t, s, "b/0"); got != "3" {
		t.Errorf("b/0 on machine %s, want 3", got)
	}
}

func TestPlacementRefusals(t *testing.T) {
	s, root, pid := guardian(t)
	if _, err := ask[*model.Deployed](t, root, pid, deploy("a", 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := ask[*machine.Done](t, root, pid, &model.Route{Kind: model.KindMachine, ID: "1", Msg: &machine.Destroy{}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		to   []string
		want string
	}{
		{[]string{"9"}, `machine "9": no such machine in model "default"; see the machines in ` + "`troupe status`"},
		{[]string{"1"}, `machine "1": it is dying; choose an alive machine`},
		{[]string{"lxd:0"}, "not supported yet"},
		{[]string{"0", "9"}, `no such machine`},
	} {
		_, err := ask[*model.UnitsAdded](t, root, pid, &model.AddUnits{App: "a", NumUnits: len(tc.to), To: tc.to})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--to %v: got %v, want %q", tc.to, err, tc.want)
		}
		if _, err := ask[*model.Deployed](t, root, pid, deploy("b", len(tc.to), tc.to...)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("deploy --to %v: got %v, want %q", tc.to, err, tc.want)
		}
	}
	// Nothing was written by the refused calls: no unit a/2, no app b.
	var u ent.Unit
	if _, err := s.Get(context.Background(), ent.UnitKey(uuid, "a/2"), &u); err == nil {
		t.Errorf("a refused add-unit left unit a/2 behind: %+v", u)
	}
	var a ent.Application
	if _, err := s.Get(context.Background(), ent.ApplicationKey(uuid, "b"), &a); err == nil {
		t.Errorf("a refused deploy left application b behind")
	}
	// The counters did not move either: the next unit is a/2 on machine 2.
	added, err := ask[*model.UnitsAdded](t, root, pid, &model.AddUnits{App: "a", NumUnits: 1})
	if err != nil || added.Units[0] != "a/2" || unitMachine(t, s, "a/2") != "2" {
		t.Errorf("next unit: %+v %v", added, err)
	}
}

func TestSetConfigPersistsThenApplies(t *testing.T) {
	s, root, pid := guardian(t)
	if _, err := ask[*model.ConfigSet](t, root, pid, &model.SetConfig{Values: map[string]string{"automatically-retry-hooks": "false"}}); err != nil {
		t.Fatal(err)
	}
	var m ent.Model
	if _, err := s.Get(context.Background(), ent.ModelKey(uuid), &m); err != nil || m.Config["automatically-retry-hooks"] != "false" {
		t.Fatalf("stored model: %+v %v", m, err)
	}
	_, err := ask[*model.ConfigSet](t, root, pid, &model.SetConfig{Values: map[string]string{"update-status-hook-interval": "3h"}})
	if err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("out of range interval: got %v", err)
	}
	// The refused change did not touch the stored settings, and later
	// writes (here a deploy) keep the earlier ones.
	if _, err := ask[*model.Deployed](t, root, pid, deploy("a", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), ent.ModelKey(uuid), &m); err != nil || m.Config["automatically-retry-hooks"] != "false" || len(m.Config) != 1 {
		t.Fatalf("stored model after a refused change and a deploy: %+v %v", m.Config, err)
	}
	if _, err := ask[*model.ConfigSet](t, root, pid, &model.SetConfig{Reset: []string{"automatically-retry-hooks"}}); err != nil {
		t.Fatal(err)
	}
	var reset ent.Model
	if _, err := s.Get(context.Background(), ent.ModelKey(uuid), &reset); err != nil || len(reset.Config) != 0 {
		t.Fatalf("after reset: %+v %v", reset.Config, err)
	}
}

// TestLargeDeployIsOneTransaction: hundreds of units (two documents each)
// fit in the deploy's single fenced transaction.
func TestLargeDeployIsOneTransaction(t *testing.T) {
	s, root, pid := guardian(t)
	res, err := ask[*model.Deployed](t, root, pid, deploy("big", 500))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Units) != 500 || len(res.Machines) != 500 {
		t.Fatalf("deployed %d units on %d machines", len(res.Units), len(res.Machines))
	}
	kvs, _, err := s.List(context.Background(), ent.UnitsPrefix(uuid, "big"))
	if err != nil || len(kvs) != 500 {
		t.Fatalf("%d unit documents (%v)", len(kvs), err)
	}
}
