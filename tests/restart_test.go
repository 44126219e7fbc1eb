package tests

import (
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestMachineAgentKilledIsRestartedWithoutRerunningHooks SIGKILLs a
// machine agent: the provisioner restarts it with its credential intact,
// the unit stays active and idle, and no committed hook runs again
// (install, config-changed and start ran exactly once).
func TestMachineAgentKilledIsRestartedWithoutRerunningHooks(t *testing.T) {
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "-n", "2", "--config", "ledger-dir="+ledgers)
	allReady := func(doc statusDoc) bool {
		units := doc.Applications["hello"].Units
		for _, u := range units {
			if u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" {
				return false
			}
		}
		return len(units) == 2
	}
	doc := waitFor(t, e, readyTimeout, "2 units active and idle", allReady)

	dirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*-machine-"+doc.Applications["hello"].Units["hello/1"].Machine))
	if len(dirs) != 1 {
		t.Fatalf("machine dir of hello/1: %v", dirs)
	}
	pidOf := func() int { return agentPID(dirs[0]) }
	old := pidOf()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatalf("cannot kill machine agent %d: %v", old, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if pid := pidOf(); pid != old && pid != 0 && syscall.Kill(pid, 0) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("machine agent of hello/1 not restarted within 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Let the restarted agent reconcile, then check nothing re-ran.
	time.Sleep(3 * time.Second)
	waitFor(t, e, readyTimeout, "2 units active and idle after the restart", allReady)
	lines := readLines(t, filepath.Join(ledgers, "hello-1"))
	for _, hook := range []string{"install", "config-changed", "start"} {
		n := 0
		for _, l := range lines {
			if l == hook {
				n++
			}
		}
		if n != 1 {
			t.Errorf("hello/1 ran %s %d times across the agent's SIGKILL and restart, want exactly once: %v", hook, n, lines)
		}
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}
