package apiserver

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/troupe-dev/troupe/internal/entity"
)

// TestMachineFieldMatchesStoredUnits: MachineUnits' pre-filter must find
// every unit document placed on the machine, as store.Put encodes it
// (container ids included).
func TestMachineFieldMatchesStoredUnits(t *testing.T) {
	for _, id := range []string{"0", "12", "0/lxd/3", `we"ird`} {
		data, err := json.Marshal(entity.Unit{Name: "a/0", Machine: id, CharmState: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, machineField(id)) {
			t.Errorf("machineField(%q) = %s not in %s", id, machineField(id), data)
		}
		if other := machineField(id + "1"); bytes.Contains(data, other) {
			t.Errorf("machineField(%q) matches a unit on %q", id+"1", id)
		}
	}
}
