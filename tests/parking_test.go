package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// restartController stops the controller gracefully (SIGTERM) and starts
// it again as bootstrap does; the machine agents keep running.
func restartController(t *testing.T, e *env) {
	t.Helper()
	restartControllerWith(t, e, nil)
}

// restartControllerWith stops the controller, runs offline (if not nil)
// while it is down, and starts it again.
func restartControllerWith(t *testing.T, e *env, offline func()) {
	t.Helper()
	dir := filepath.Join(e.home, "controller")
	data, err := os.ReadFile(filepath.Join(dir, "trouped.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("cannot stop the controller (pid %d): %v", pid, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("controller pid %d did not stop within 30s of SIGTERM", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if offline != nil {
		offline()
	}
	logf, err := os.OpenFile(filepath.Join(dir, "trouped.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(e.bin, "trouped"), "controller", "--data-dir", dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trouped.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait() // reap; the test's cleanup kills whatever is left
	for time.Now().Before(deadline.Add(30 * time.Second)) {
		if r := e.troupe(commandTimeout, "status", "--format=json"); r.code == 0 {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatal("the restarted controller does not answer status")
}

// corruptKey overwrites the store key ending in suffix with bytes that are
// not a document (a stand-in for a corrupt or incompatible document),
// with the controller stopped, through `trouped store-keys` and
// `trouped store-put`: the controller's etcd accepts no outside client.
// It returns the key.
func corruptKey(t *testing.T, e *env, suffix string) string {
	t.Helper()
	dir := filepath.Join(e.home, "controller")
	out, err := exec.Command(filepath.Join(e.bin, "trouped"), "store-keys", "--data-dir", dir, "/troupe/m/").CombinedOutput()
	if err != nil {
		t.Fatalf("trouped store-keys: %v\n%s", err, out)
	}
	for _, k := range strings.Fields(string(out)) {
		if strings.HasSuffix(k, suffix) {
			if out, err := exec.Command(filepath.Join(e.bin, "trouped"), "store-put", "--data-dir", dir, k, "{corrupt").CombinedOutput(); err != nil {
				t.Fatalf("trouped store-put: %v\n%s", err, out)
			}
			return k
		}
	}
	t.Fatalf("no store key ends in %q among:\n%s", suffix, out)
	return ""
}

// TestEntityParkedAfterRestartIntensity is issue 3's third acceptance
// test: a unit whose document can no longer be loaded makes its actor
// fail on every request; each caller gets an error at once (no timeout),
// and past the restart intensity the unit is parked: `status --format=json`
// shows it in error with the reason, while the rest of the model keeps
// working (config changes and new units on the same application).
func TestEntityParkedAfterRestartIntensity(t *testing.T) {
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "-n", "2", "--config", "ledger-dir="+ledgers)
	before := waitFor(t, e, readyTimeout, "2 hello units active", func(doc statusDoc) bool {
		units := doc.Applications["hello"].Units
		return len(units) == 2 && units["hello/0"].JujuStatus.Current == "idle" && units["hello/1"].JujuStatus.Current == "idle" &&
			units["hello/0"].WorkloadStatus.Current == "active" && units["hello/1"].WorkloadStatus.Current == "active"
	})

	// The unit's actor holds its document in memory; a restarted
	// controller's fresh actor is the one that meets the corrupt copy.
	victimMachine := before.Applications["hello"].Units["hello/1"].Machine
	restartControllerWith(t, e, func() { corruptKey(t, e, "/unit/hello/1") })
	parked := false
	for i := 0; i < 12 && !parked; i++ {
		start := time.Now()
		r := e.troupe(commandTimeout, "resolve", "hello/1")
		if took := time.Since(start); took > 20*time.Second {
			t.Fatalf("resolve of the broken unit took %v: a failing actor must answer at once: %s", took, r)
		}
		if r.code == 0 {
			t.Fatalf("resolve of a unit that cannot be loaded succeeded: %s", r)
		}
		parked = strings.Contains(r.stderr, "parked in error after repeated failures")
		t.Logf("resolve %d: %s", i, strings.TrimSpace(r.stderr))
	}
	if !parked {
		t.Fatal("the unit was never parked after repeated failures")
	}

	doc := waitFor(t, e, readyTimeout, "hello/1 shown parked", func(doc statusDoc) bool {
		u := doc.Applications["hello"].Units["hello/1"]
		return u.WorkloadStatus.Current == "error" && strings.Contains(u.WorkloadStatus.Message, "parked in error after repeated failures")
	})
	if msg := doc.Applications["hello"].Units["hello/1"].WorkloadStatus.Message; !strings.Contains(msg, "cannot load") {
		t.Errorf("parked status message %q does not give the reason", msg)
	}

	// The rest of the model works.
	e.mustTroupe(commandTimeout, "config", "hello", "greeting=still-here")
	e.mustTroupe(commandTimeout, "add-unit", "hello")
	waitFor(t, e, readyTimeout, "hello/2 active and idle", func(doc statusDoc) bool {
		u := doc.Applications["hello"].Units["hello/2"]
		return u.WorkloadStatus.Current == "active" && u.JujuStatus.Current == "idle"
	})
	deadline := time.Now().Add(readyTimeout)
	for {
		n := 0
		for _, h := range readLinesIfExists(filepath.Join(ledgers, "hello-0")) {
			if h == "config-changed" {
				n++
			}
		}
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hello/0 did not run config-changed for the new greeting: %v", readLinesIfExists(filepath.Join(ledgers, "hello-0")))
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Nothing else was lost: hello/1's machine is still there, and its
	// agent is back in touch with the restarted controller (its redial
	// backoff may leave it disconnected for a few seconds after the
	// restart, so this waits rather than samples).
	waitFor(t, e, readyTimeout, "the parked unit's machine "+victimMachine+" still there and started", func(doc statusDoc) bool {
		return doc.Machines[victimMachine].JujuStatus.Current == "started"
	})
}
