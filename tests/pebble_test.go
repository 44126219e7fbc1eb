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

	"github.com/canonical/pebble/client"

	"github.com/troupe-dev/troupe/workers/pebble"
)

// pebbleUnit is one pebbler unit as the test sees it from the host.
type pebbleUnit struct {
	name   string // "pebbler/0"
	dir    string // its agent dir
	socket string // its workload container's Pebble socket, host path
	client *client.Client
}

func (u pebbleUnit) ledger(t *testing.T) []string {
	data, err := os.ReadFile(filepath.Join(u.dir, "hook-ledger"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func (u pebbleUnit) count(t *testing.T, line string) int {
	n := 0
	for _, l := range u.ledger(t) {
		if l == line || strings.HasPrefix(l, line+"|") {
			n++
		}
	}
	return n
}

// waitLedger waits until the unit's ledger has want lines equal to (or
// starting with line+"|") line.
func (u pebbleUnit) waitLedger(t *testing.T, line string, want int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if u.count(t, line) >= want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: ledger has not %d %q line(s) after %s:\n%s", u.name, want, line, limit, strings.Join(u.ledger(t), "\n"))
}

func (u pebbleUnit) tickerPid(t *testing.T) int {
	data, err := os.ReadFile(filepath.Join(u.dir, "ticker.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

func (u pebbleUnit) serviceActive(t *testing.T) bool {
	svcs, err := u.client.Services(&client.ServicesOptions{Names: []string{"ticker"}})
	return err == nil && len(svcs) == 1 && svcs[0].Current == client.StatusActive
}

// TestPebbleWorkload is issue 7's Pebble acceptance (points 3 and 4):
// two units of testcharms/pebbler on ONE machine each get their own
// Pebble daemon; pebble-ready adds a layer and starts a service (checked
// with the Pebble client); killing the service makes Pebble restart it; a
// failing health check fires pebble-check-failed and its recovery
// pebble-check-recovered; `pebble notify` fires pebble-custom-notice with
// the contract's variables; and each unit's hooks and actions see only
// their own socket at /charm/containers.
func TestPebbleWorkload(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/pebbler")
	e.mustTroupe(commandTimeout, "add-unit", "pebbler", "--to", "0")
	doc := waitFor(t, e, 2*time.Minute, "both pebbler units active with their ticker", func(d statusDoc) bool {
		units := d.Applications["pebbler"].Units
		if len(units) != 2 {
			return false
		}
		for _, u := range units {
			if u.WorkloadStatus.Current != "active" || u.WorkloadStatus.Message != "ticker running" || u.JujuStatus.Current != "idle" {
				return false
			}
		}
		return true
	})
	if n := len(doc.Machines); n != 1 {
		t.Fatalf("want both units on one machine, status shows %d machines", n)
	}

	var units []pebbleUnit
	for _, ledger := range findFiles(t, e.home, "hook-ledger") {
		dir := filepath.Dir(ledger)
		name := strings.TrimPrefix(filepath.Base(dir), "unit-")
		name = name[:strings.LastIndex(name, "-")] + "/" + name[strings.LastIndex(name, "-")+1:]
		sock := filepath.Join(pebble.ContainersDir(dir), "workload", pebble.SocketName)
		cl, err := client.New(&client.Config{Socket: sock})
		if err != nil {
			t.Fatal(err)
		}
		units = append(units, pebbleUnit{name: name, dir: dir, socket: sock, client: cl})
		t.Cleanup(func() { os.RemoveAll(pebble.ContainersDir(dir)) }) // a SIGKILLed agent leaves it
	}
	if len(units) != 2 {
		t.Fatalf("want 2 unit ledgers, found %d", len(units))
	}

	// Acceptance 3: the service runs, checked through the Pebble client;
	// each unit's socket answers with the daemon its own pebble-ready
	// hook configured (the plan names the unit).
	for _, u := range units {
		if !u.serviceActive(t) {
			t.Fatalf("%s: ticker is not active in Pebble on %s", u.name, u.socket)
		}
		plan, err := u.client.PlanBytes(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(plan), "PEBBLER_UNIT: "+u.name) {
			t.Errorf("%s: the daemon on %s holds another unit's plan:\n%s", u.name, u.socket, plan)
		}
		if n := u.count(t, "workload-pebble-ready|workload"); n != 1 {
			t.Errorf("%s: workload-pebble-ready ran %d times, want once", u.name, n)
		}
	}

	// Killing the service's process makes Pebble restart it.
	u := units[0]
	old := u.tickerPid(t)
	if old <= 0 {
		t.Fatalf("%s: no ticker pid recorded", u.name)
	}
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatalf("cannot kill the ticker (pid %d): %v", old, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if pid := u.tickerPid(t); pid > 0 && pid != old && syscall.Kill(pid, 0) == nil && u.serviceActive(t) {
			t.Logf("%s: Pebble restarted the ticker: pid %d -> %d", u.name, old, pid)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: Pebble did not restart the killed ticker (pid %d) within 30s", u.name, old)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A failing health check fires pebble-check-failed, its recovery
	// pebble-check-recovered; the other unit's check is unaffected.
	if err := os.Remove(filepath.Join(u.dir, "healthy")); err != nil {
		t.Fatal(err)
	}
	u.waitLedger(t, "workload-pebble-check-failed|workload|alive", 1, 30*time.Second)
	if err := os.WriteFile(filepath.Join(u.dir, "healthy"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	u.waitLedger(t, "workload-pebble-check-recovered|workload|alive", 1, 30*time.Second)

	// A custom notice fires pebble-custom-notice with its type, key and id.
	notify := exec.Command(filepath.Join(e.bin, "pebble"), "notify", "example.com/ping")
	notify.Env = append(os.Environ(), "PEBBLE_SOCKET="+u.socket)
	out, err := notify.CombinedOutput()
	if err != nil {
		t.Fatalf("pebble notify: %v\n%s", err, out)
	}
	noticeID, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "Recorded notice ")
	if !ok {
		t.Fatalf("pebble notify printed %q, want \"Recorded notice <id>\"", out)
	}
	u.waitLedger(t, "workload-pebble-custom-notice|workload|custom|example.com/ping|"+noticeID, 1, 30*time.Second)

	// Acceptance 4: each unit's action sees only its own container dir,
	// whose socket answers with that unit's daemon.
	for _, pu := range units {
		r := e.troupe(commandTimeout, "run", "--format", "json", pu.name, "inspect", "--wait", "60s")
		if r.err != nil || r.code != 0 {
			t.Fatalf("inspect on %s: %s", pu.name, r)
		}
		_, task := runJSON(t, r)
		if seen, _ := task.Results["seen"].(string); strings.TrimSpace(seen) != "workload" {
			t.Errorf("%s sees %q at /charm/containers, want only its own \"workload\"", pu.name, seen)
		}
		c, _ := task.Results["containers"].(map[string]any)
		w, _ := c["workload"].(map[string]any)
		if w["plan-unit"] != pu.name {
			t.Errorf("%s: /charm/containers/workload answers with the daemon holding %v's plan, want its own", pu.name, w["plan-unit"])
		}
	}
	// Nothing of it leaked onto the host's /charm/containers.
	if _, err := os.Stat(filepath.Join("/charm/containers", "workload")); err == nil {
		t.Errorf("/charm/containers/workload exists on the host: a unit's mount leaked out of its namespace")
	}

	// The other unit ran no check or notice hooks; no event ran twice.
	other := units[1]
	for _, h := range []string{"workload-pebble-check-failed", "workload-pebble-check-recovered", "workload-pebble-custom-notice"} {
		if n := other.count(t, h); n != 0 {
			t.Errorf("%s ran %s %d times; the events were the other unit's", other.name, h, n)
		}
		if n := u.count(t, h); n != 1 {
			t.Errorf("%s ran %s %d times, want once", u.name, h, n)
		}
	}

	// Tear-down stops the daemons and their services with the agents.
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
	if left := waitNoProcesses(e.home, 15*time.Second); len(left) > 0 {
		t.Errorf("processes still running 15s after destroy-controller:\n%s", strings.Join(left, "\n"))
	}
	for _, pu := range units {
		if _, err := os.Stat(pu.socket); err == nil {
			t.Errorf("%s: socket %s left behind", pu.name, pu.socket)
		}
	}
}

// TestPebbleSurvivesAgentKill: SIGKILLing the machine agent leaves the
// Pebble daemon and its service running; the restarted agent adopts the
// daemon without running pebble-ready again, and a notice made while the
// agent was down fires its hook exactly once. A daemon that dies is
// started again and pebble-ready runs for the new one.
func TestPebbleSurvivesAgentKill(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)), "--agent-check-interval", "1s")
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/pebbler")
	waitFor(t, e, 2*time.Minute, "pebbler/0 active", func(d statusDoc) bool {
		u, ok := d.Applications["pebbler"].Units["pebbler/0"]
		return ok && u.WorkloadStatus.Current == "active" && u.JujuStatus.Current == "idle"
	})
	ledgers := findFiles(t, e.home, "hook-ledger")
	if len(ledgers) != 1 {
		t.Fatalf("want one unit ledger, found %v", ledgers)
	}
	dir := filepath.Dir(ledgers[0])
	sock := filepath.Join(pebble.ContainersDir(dir), "workload", pebble.SocketName)
	cl, err := client.New(&client.Config{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pebble.ContainersDir(dir)) }) // a SIGKILLed agent leaves it
	u := pebbleUnit{name: "pebbler/0", dir: dir, socket: sock, client: cl}
	daemonPid := func() int {
		data, _ := os.ReadFile(filepath.Join(dir, "pebble", "workload", "daemon.pid"))
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		return pid
	}
	pebblePid, ticker := daemonPid(), u.tickerPid(t)
	machineDir := filepath.Dir(filepath.Dir(dir))
	agent := agentPID(machineDir)
	if pebblePid <= 0 || ticker <= 0 || agent <= 0 {
		t.Fatalf("pids: pebble %d, ticker %d, agent %d", pebblePid, ticker, agent)
	}

	if err := syscall.Kill(agent, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	notify := exec.Command(filepath.Join(e.bin, "pebble"), "notify", "example.com/while-down")
	notify.Env = append(os.Environ(), "PEBBLE_SOCKET="+sock)
	if out, err := notify.CombinedOutput(); err != nil {
		t.Fatalf("pebble notify with the agent down: %v\n%s", err, out)
	}
	deadline := time.Now().Add(time.Minute)
	for agentPID(machineDir) == 0 || agentPID(machineDir) == agent {
		if time.Now().After(deadline) {
			t.Fatal("the machine agent was not restarted within a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
	u.waitLedger(t, "workload-pebble-custom-notice|workload|custom|example.com/while-down", 1, time.Minute)
	time.Sleep(2 * time.Second) // room for a wrongly repeated hook to show up
	if n := u.count(t, "workload-pebble-custom-notice"); n != 1 {
		t.Errorf("custom notice hook ran %d times across the agent kill, want once", n)
	}
	if n := u.count(t, "workload-pebble-ready"); n != 1 {
		t.Errorf("pebble-ready ran %d times; the restarted agent must adopt the running daemon without it", n)
	}
	if got := daemonPid(); got != pebblePid {
		t.Errorf("pebble pid %d -> %d: the daemon was replaced, not adopted", pebblePid, got)
	}
	if got := u.tickerPid(t); got != ticker || syscall.Kill(ticker, 0) != nil {
		t.Errorf("ticker pid %d -> %d: the workload did not survive the agent kill", ticker, got)
	}

	// A dead daemon is started again, and pebble-ready runs for it.
	if err := syscall.Kill(pebblePid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(ticker, syscall.SIGKILL) // orphaned by the SIGKILLed daemon
	u.waitLedger(t, "workload-pebble-ready", 2, time.Minute)
	deadline = time.Now().Add(30 * time.Second)
	for !u.serviceActive(t) {
		if time.Now().After(deadline) {
			t.Fatal("the new daemon does not run the ticker the second pebble-ready configured")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := daemonPid(); got == pebblePid || got <= 0 {
		t.Errorf("pebble pid after its death: %d (was %d)", got, pebblePid)
	}
}
