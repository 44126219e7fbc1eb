package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAddAndRemoveUnit: add-unit brings a new unit through the first-deploy
// sequence; remove-unit makes it dying, it runs stop then remove, it and
// its machine disappear from status and its machine agent process ends;
// remove-application does the same for every remaining unit.
func TestAddAndRemoveUnit(t *testing.T) {
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "--config", "ledger-dir="+ledgers)
	e.mustTroupe(commandTimeout, "add-unit", "hello", "-n", "2")

	ready := func(want int) func(statusDoc) bool {
		return func(doc statusDoc) bool {
			units := doc.Applications["hello"].Units
			if len(units) != want {
				return false
			}
			for _, u := range units {
				if u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" {
					return false
				}
			}
			return true
		}
	}
	doc := waitFor(t, e, readyTimeout, "3 hello units active and idle", ready(3))
	for _, u := range []string{"hello/0", "hello/1", "hello/2"} {
		if _, ok := doc.Applications["hello"].Units[u]; !ok {
			t.Fatalf("unit %s missing after add-unit; units: %v", u, doc.Applications["hello"].Units)
		}
	}
	victim := doc.Applications["hello"].Units["hello/2"].Machine
	machineDirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*-machine-"+victim))
	if len(machineDirs) != 1 {
		t.Fatalf("machine dir of machine %s: %v", victim, machineDirs)
	}

	bad := e.troupe(commandTimeout, "remove-unit", "hello/2", "hello/9")
	if bad.code == 0 || !strings.Contains(bad.stderr, "hello/9") {
		t.Errorf("remove-unit of an unknown unit must fail naming it: %s", bad)
	}
	e.mustTroupe(commandTimeout, "remove-unit", "--no-prompt", "hello/2")
	waitFor(t, e, readyTimeout, "hello/2 and its machine gone", func(doc statusDoc) bool {
		_, unit := doc.Applications["hello"].Units["hello/2"]
		_, mach := doc.Machines[victim]
		return !unit && !mach && ready(2)(doc)
	})

	got := strings.Join(readLines(t, filepath.Join(ledgers, "hello-2")), ",")
	if !strings.HasSuffix(got, ",start,stop,remove") || !strings.HasPrefix(got, "install,") {
		t.Errorf("hooks of the removed unit: got %s, want install...start,stop,remove", got)
	}
	for _, u := range []string{"hello-0", "hello-1"} {
		if l := readLines(t, filepath.Join(ledgers, u)); strings.Contains(strings.Join(l, ","), "stop") {
			t.Errorf("%s ran stop although it was not removed: %v", u, l)
		}
	}
	if left := waitNoProcesses(machineDirs[0], 15*time.Second); len(left) > 0 {
		t.Errorf("machine agent of the removed unit still running: %v", left)
	}
	if _, err := os.Stat(machineDirs[0]); !os.IsNotExist(err) {
		t.Errorf("instance dir of the released machine still exists (%v)", err)
	}

	// remove-application: the cleaner makes the remaining units dying,
	// each runs stop then remove, their machines are released, and the
	// application disappears.
	e.mustTroupe(commandTimeout, "remove-application", "--no-prompt", "hello")
	waitFor(t, e, readyTimeout, "hello and its machines gone", func(doc statusDoc) bool {
		return len(doc.Applications) == 0 && len(doc.Machines) == 0
	})
	for _, u := range []string{"hello-0", "hello-1"} {
		if got := strings.Join(readLines(t, filepath.Join(ledgers, u)), ","); !strings.HasSuffix(got, ",stop,remove") {
			t.Errorf("%s after remove-application: got %s, want ...,stop,remove", u, got)
		}
	}
	if left := waitNoProcesses(filepath.Join(e.home, "machines"), 15*time.Second); len(left) > 0 {
		t.Errorf("machine agents still running after remove-application: %v", left)
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}
