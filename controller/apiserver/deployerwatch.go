package apiserver

import (
	"encoding/json"
	"strings"

	"github.com/troupe-dev/troupe/internal/watchhub"
)

// deployerChanges decides which changes a machine's WatchMachine stream
// notifies. The deployer answers every notification with MachineUnits,
// a list of every unit of the model, and before this filter every unit
// change of the model notified every machine: a status write of any of
// 500 units meant 4 machines × 500 unit documents decoded, most of the
// controller's work (and in-flight memory) while a model settled.
//
// Kept: the baseline marker, changes of the machine's own document,
// and unit changes that alter the set of units assigned to machine or
// their life — a unit assigned (or reassigned) here, a life change of
// one seen here, the deletion of one seen here. A unit document that
// cannot be decoded is kept (the deployer's list reports it). The
// returned func keeps its memory of the units seen: one per stream,
// called from the stream's goroutine only.
func deployerChanges(machine, unitPrefix string) func(watchhub.Event) bool {
	seen := map[string]string{} // unit key -> life, for units on machine
	return func(ev watchhub.Event) bool {
		if !strings.HasPrefix(ev.Key, unitPrefix) {
			return true // the baseline, or the machine itself
		}
		life, here := seen[ev.Key]
		if ev.Deleted {
			delete(seen, ev.Key)
			return here
		}
		var u struct {
			Machine string `json:"machine"`
			Life    string `json:"life"`
		}
		if err := json.Unmarshal(ev.Value, &u); err != nil {
			return true
		}
		if u.Machine != machine {
			delete(seen, ev.Key)
			return here // moved away from this machine
		}
		seen[ev.Key] = u.Life
		return !here || life != u.Life
	}
}
