package model_test

import (
	"context"
	"testing"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/internal/constraints"
	ent "github.com/troupe-dev/troupe/internal/entity"
)

// Machines made for an application's units start with its constraints,
// add-machine's with theirs; a unit placed on an existing machine leaves
// that machine's constraints alone.
func TestMachinesCarryConstraints(t *testing.T) {
	s, root, pid := guardian(t)
	machineConstraints := func(id string) string {
		t.Helper()
		var m ent.Machine
		if _, err := s.Get(context.Background(), ent.MachineKey(uuid, id), &m); err != nil {
			t.Fatalf("machine %s: %v", id, err)
		}
		return constraints.Format(m.Constraints)
	}
	d := deploy("a", 1)
	d.App.Constraints = map[string]any{"cores": 2, "mem": 1024}
	if _, err := ask[*model.Deployed](t, root, pid, d); err != nil {
		t.Fatal(err)
	}
	if got := machineConstraints("0"); got != "cores=2 mem=1024M" {
		t.Errorf("deploy's machine 0 has constraints %q, want the application's cores=2 mem=1024M", got)
	}
	if _, err := ask[*model.UnitsAdded](t, root, pid, &model.AddUnits{App: "a", NumUnits: 1}); err != nil {
		t.Fatal(err)
	}
	if got := machineConstraints("1"); got != "cores=2 mem=1024M" {
		t.Errorf("add-unit's machine 1 has constraints %q, want the application's", got)
	}
	if _, err := ask[*model.MachinesAdded](t, root, pid, &model.AddMachines{N: 1, Constraints: map[string]any{"mem": 512}}); err != nil {
		t.Fatal(err)
	}
	if got := machineConstraints("2"); got != "mem=512M" {
		t.Errorf("add-machine's machine 2 has constraints %q, want mem=512M", got)
	}
	if _, err := ask[*model.UnitsAdded](t, root, pid, &model.AddUnits{App: "a", NumUnits: 1, To: []string{"2"}}); err != nil {
		t.Fatal(err)
	}
	if got := machineConstraints("2"); got != "mem=512M" {
		t.Errorf("placing a unit on machine 2 changed its constraints to %q", got)
	}
}
