package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/api"
)

// outboxAgent is a deployed outbox/0 whose machine's agents reach the
// controller only through a proxy the test can cut.
type outboxAgent struct {
	t       *testing.T
	e       *env
	dir     string // the machine agent's data dir
	ledgers string
	ledger  string
	proxy   *linkProxy
}

// deployOutbox deploys testcharms/outbox with update-status every second
// and puts a linkProxy between its machine's agents and the controller;
// conf edits each agent.conf under the machine (log-buffer, outbox-limit)
// before the agent is restarted onto the proxy.
func deployOutbox(t *testing.T, e *env, conf func(*api.AgentConfig)) *outboxAgent {
	a := &outboxAgent{t: t, e: e, ledgers: t.TempDir()}
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "model-config", "update-status-hook-interval=1s")
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/outbox", "--config", "ledger-dir="+a.ledgers)
	doc := waitFor(t, e, readyTimeout, "outbox/0 active", appsReady(map[string]int{"outbox": 1}))
	machine := doc.Applications["outbox"].Units["outbox/0"].Machine
	dirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*-machine-"+machine))
	if len(dirs) != 1 {
		t.Fatalf("machine dir of outbox/0: %v", dirs)
	}
	a.dir = dirs[0]
	a.ledger = filepath.Join(a.ledgers, "outbox-0")
	a.waitLedger("2 update-status runs", func(l []string) bool { return len(ended(l)) >= 2 })

	a.proxy = proxyAgents(t, a.dir, conf)
	a.pause()
	a.kill() // comes back on the proxy with the new settings
	a.resume()
	n := len(ended(a.lines()))
	a.waitLedger("runs through the proxy", func(l []string) bool { return len(ended(l)) >= n+2 })
	return a
}

func (a *outboxAgent) lines() []string {
	data, _ := os.ReadFile(a.ledger)
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func (a *outboxAgent) waitLedger(what string, ok func([]string) bool) []string {
	a.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		if l := a.lines(); ok(l) {
			return l
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("ledger: %s not seen within %s:\n%s", what, readyTimeout, strings.Join(a.lines(), "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ended lists the n of every "end n" line, in ledger order.
func ended(lines []string) []int {
	var out []int
	for _, l := range lines {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "end" {
			n, _ := strconv.Atoi(f[1])
			out = append(out, n)
		}
	}
	return out
}

// pause makes runs no-ops and waits until one started after the last
// real run ended, so no hook is running while the test acts; it returns
// the ledger at that point.
func (a *outboxAgent) pause() []string {
	a.t.Helper()
	if err := os.WriteFile(filepath.Join(a.ledgers, "pause"), nil, 0o644); err != nil {
		a.t.Fatal(err)
	}
	return a.waitLedger("a paused run", func(l []string) bool { return strings.HasPrefix(l[len(l)-1], "skip ") })
}

func (a *outboxAgent) resume() {
	if err := os.Remove(filepath.Join(a.ledgers, "pause")); err != nil {
		a.t.Fatal(err)
	}
}

// kill SIGKILLs the machine agent and waits for the provisioner to start
// a new one.
func (a *outboxAgent) kill() { killMachineAgent(a.t, a.dir) }

// killMachineAgent SIGKILLs the machine agent of dir and waits for the
// provisioner to start a new one.
func killMachineAgent(t *testing.T, dir string) {
	t.Helper()
	old := agentPID(dir)
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatalf("cannot kill machine agent %d: %v", old, err)
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		if pid := agentPID(dir); pid != old && pid != 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("machine agent not restarted within %s", readyTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// proxyAgents puts a linkProxy between the agents of the machine in dir
// and the controller: every agent.conf under dir is pointed at it (and
// edited by conf). The agents use it from their next start.
func proxyAgents(t *testing.T, dir string, conf func(*api.AgentConfig)) *linkProxy {
	t.Helper()
	var confDirs []string
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == api.AgentConfigFile {
			confDirs = append(confDirs, filepath.Dir(path))
		}
		return nil
	})
	if len(confDirs) == 0 {
		t.Fatalf("no agent.conf under %s", dir)
	}
	c, err := api.ReadAgentConfig(confDirs[0])
	if err != nil {
		t.Fatal(err)
	}
	proxy := newLinkProxy(t, c.Addresses[0])
	for _, d := range confDirs {
		c, err := api.ReadAgentConfig(d)
		if err != nil {
			t.Fatal(err)
		}
		c.Addresses = []string{proxy.addr}
		c.BackoffCap = "2s"
		conf(&c)
		if err := api.WriteAgentConfig(d, c); err != nil {
			t.Fatal(err)
		}
	}
	return proxy
}

var outboxLine = regexp.MustCompile(`outbox-line ([0-9]+)\.([1-3])$`)

// juju-log lines of outbox/0 as debug-log shows them: (n, k) in order,
// and the "log lines dropped" markers' counts.
func (a *outboxAgent) debugLog() (lines [][2]int, dropped int) {
	a.t.Helper()
	r := a.e.mustTroupe(commandTimeout, "debug-log", "--replay", "--no-tail", "--include", "outbox/0")
	for _, l := range outputLines(r.stdout) {
		if m := outboxLine.FindStringSubmatch(l); m != nil && strings.Contains(l, "unit.outbox/0.juju-log") {
			n, _ := strconv.Atoi(m[1])
			k, _ := strconv.Atoi(m[2])
			lines = append(lines, [2]int{n, k})
		}
		if i := strings.Index(l, " log lines dropped"); i >= 0 {
			f := strings.Fields(l[:i])
			d, _ := strconv.Atoi(f[len(f)-1])
			dropped += d
		}
	}
	return lines, dropped
}

// TestOutboxDeliversEverythingOnceAfterOfflineRestart (AC3): the machine
// agent of outbox/0 is cut off the controller for longer than its
// in-memory log buffer (log-buffer 16 records) holds, while update-status
// (every second) sets the workload status three times, logs three
// juju-log lines and commits a counter per run, and is SIGKILLed and
// restarted while still offline. When the link returns: every juju-log
// line of every run is in debug-log, in order, once (no duplicate, no
// gap), with no "dropped" marker; the workload status is the last one the
// charm set; the controller's copy of the counter, as runs read it,
// never went back and ends at the last run's; and the outbox is empty.
func TestOutboxDeliversEverythingOnceAfterOfflineRestart(t *testing.T) {
	t.Parallel() // mostly waiting on agents; see tests/doc.go
	e := newEnv(t)
	const logBuffer = 16
	a := deployOutbox(t, e, func(c *api.AgentConfig) {
		c.LogBuffer = logBuffer
		c.OutboxLimit = 4096
	})

	a.proxy.down()
	cutAt := len(a.lines())
	time.Sleep(8 * time.Second)
	a.pause() // no hook runs while the agent is killed
	killAt := len(a.lines())
	a.kill() // SIGKILL while offline; it comes back still cut off
	a.resume()
	n := len(ended(a.lines()))
	a.waitLedger("runs offline after the restart", func(l []string) bool { return len(ended(l)) >= n+5 })
	offlineRuns := ended(a.lines()[cutAt:])
	if len(ended(a.lines()[cutAt:killAt])) < 3 {
		t.Errorf("fewer than 3 runs offline before the restart: %v", a.lines()[cutAt:killAt])
	}
	if lines := 3 * len(offlineRuns); lines <= logBuffer {
		t.Fatalf("only %d juju-log lines offline, want more than the in-memory buffer's %d", lines, logBuffer)
	}
	lastOffline := offlineRuns[len(offlineRuns)-1]
	a.proxy.up()

	// Quiesce, then everything queued must arrive.
	final := a.pause()
	last := ended(final)[len(ended(final))-1]
	if last < lastOffline {
		t.Fatalf("last run %d before the last offline run %d", last, lastOffline)
	}
	a.waitLedger(fmt.Sprintf("a paused run reading the controller's n=%d", last), func(l []string) bool {
		return l[len(l)-1] == fmt.Sprintf("skip %d", last)
	})
	deadline := time.Now().Add(readyTimeout)
	var got [][2]int
	var dropped int
	for {
		got, dropped = a.debugLog()
		if len(got) >= 3*last || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	for i, g := range got {
		if want := [2]int{i/3 + 1, i%3 + 1}; g != want {
			t.Errorf("debug-log juju-log line %d is outbox-line %d.%d, want %d.%d (lines must arrive in order, once)", i, g[0], g[1], want[0], want[1])
			break
		}
	}
	if len(got) != 3*last {
		t.Errorf("debug-log has %d juju-log lines of outbox/0, want %d (3 per run, %d runs)", len(got), 3*last, last)
	}
	if dropped != 0 {
		t.Errorf("%d log lines reported dropped, want none below the outbox limit", dropped)
	}
	waitFor(t, e, readyTimeout, "the last status set", func(doc statusDoc) bool {
		return doc.Applications["outbox"].Units["outbox/0"].WorkloadStatus.Message == fmt.Sprintf("n=%d.3", last)
	})
	// Commits: the controller's n as runs read it never goes back and
	// every run read at least the previous online run's commit.
	prev := 0
	for _, l := range final {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == "begin" && f[2] != "none" {
			seen, _ := strconv.Atoi(f[2])
			if seen < prev {
				t.Errorf("controller's n went back from %d to %d", prev, seen)
			}
			prev = seen
		}
	}
	ob := readFile(t, filepath.Join(a.dir, "agents", "unit-outbox-0", "state", "outbox.json"))
	if !strings.Contains(ob, `"entries":null`) && !strings.Contains(ob, `"entries":[]`) {
		t.Errorf("outbox not drained: %s", ob)
	}
	t.Logf("%d runs, %d offline (across a restart), %d juju-log lines and %d status changes delivered", last, len(offlineRuns), len(got), 3*last)
	if t.Failed() {
		e.dumpLogs()
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}

// TestActionResultOfflineArrivesOnce: an action that finishes while its
// machine agent is cut off the controller, and the agent is SIGKILLed and
// restarted while still offline, reports its result when the link
// returns, and is not run again.
func TestActionResultOfflineArrivesOnce(t *testing.T) {
	t.Parallel() // mostly waiting on agents; see tests/doc.go
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/actioner")
	doc := waitFor(t, e, readyTimeout, "actioner/0 active and idle", func(doc statusDoc) bool {
		u, ok := doc.Applications["actioner"].Units["actioner/0"]
		return ok && u.WorkloadStatus.Current == "active" && u.JujuStatus.Current == "idle"
	})
	dirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*-machine-"+doc.Applications["actioner"].Units["actioner/0"].Machine))
	if len(dirs) != 1 {
		t.Fatalf("machine dir of actioner/0: %v", dirs)
	}
	proxy := proxyAgents(t, dirs[0], func(*api.AgentConfig) {})
	killMachineAgent(t, dirs[0])
	waitFor(t, e, readyTimeout, "actioner/0 idle through the proxy", func(doc statusDoc) bool {
		return doc.Applications["actioner"].Units["actioner/0"].JujuStatus.Current == "idle"
	})

	r := e.mustTroupe(commandTimeout, "run", "actioner/0", "slow", "seconds=6", "--background")
	var id string
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 5 && f[1] == "task" {
			id = f[2]
		}
	}
	show := func() taskJSON {
		var tj taskJSON
		r := e.mustTroupe(commandTimeout, "show-task", id, "--format", "json")
		if err := json.Unmarshal([]byte(r.stdout), &tj); err != nil {
			t.Fatalf("show-task: %v\n%s", err, r)
		}
		return tj
	}
	deadline := time.Now().Add(readyTimeout)
	for show().Status != "running" {
		if time.Now().After(deadline) {
			t.Fatalf("task %s never started: %+v", id, show())
		}
		time.Sleep(200 * time.Millisecond)
	}
	proxy.down()
	ledger := filepath.Join(dirs[0], "agents", "unit-actioner-0", "action-ledger")
	agentLog := filepath.Join(dirs[0], "agent.log")
	deadline = time.Now().Add(readyTimeout)
	finished := func() bool {
		for _, l := range strings.Split(readFile(t, agentLog), "\n") {
			if strings.Contains(l, `msg="action finished"`) && strings.Contains(l, " task="+id+" ") {
				return true
			}
		}
		return false
	}
	for !finished() {
		if time.Now().After(deadline) {
			t.Fatalf("action %s did not finish offline", id)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if tj := show(); tj.Status != "running" {
		t.Fatalf("the controller heard of task %s while the link was down: %+v", id, tj)
	}
	killMachineAgent(t, dirs[0]) // offline restart: the result is only on disk
	time.Sleep(5 * time.Second)
	proxy.up()
	deadline = time.Now().Add(readyTimeout)
	for {
		tj := show()
		if tj.Status == "completed" {
			if fmt.Sprint(tj.Results["slept"]) != "6" {
				t.Errorf("results %+v, want slept=6", tj.Results)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s not completed after the link returned: %+v", id, tj)
		}
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // a re-run would have started by now
	if runs := strings.Count(readFile(t, ledger), "slow "+id+"\n"); runs != 1 {
		t.Errorf("action %s ran %d times, want once:\n%s", id, runs, readFile(t, ledger))
	}
	if t.Failed() {
		e.dumpLogs()
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}

// TestOutboxBoundDropsOnlyLogLines: with a small outbox (outbox-limit 24
// entries) and a long cut, the oldest juju-log lines are dropped and
// counted ("N log lines dropped" in debug-log), while every status change
// and hook commit still arrives: the last status set is shown, the
// controller's counter is the last run's, and delivered plus dropped
// lines account for every line logged, those delivered in order, once.
func TestOutboxBoundDropsOnlyLogLines(t *testing.T) {
	t.Parallel() // mostly waiting on agents; see tests/doc.go
	e := newEnv(t)
	a := deployOutbox(t, e, func(c *api.AgentConfig) { c.OutboxLimit = 24 })
	a.proxy.down()
	n := len(ended(a.lines()))
	a.waitLedger("runs offline", func(l []string) bool { return len(ended(l)) >= n+12 })
	a.proxy.up()
	final := a.pause()
	last := ended(final)[len(ended(final))-1]
	a.waitLedger(fmt.Sprintf("a paused run reading the controller's n=%d", last), func(l []string) bool {
		return l[len(l)-1] == fmt.Sprintf("skip %d", last)
	})
	waitFor(t, e, readyTimeout, "the last status set", func(doc statusDoc) bool {
		return doc.Applications["outbox"].Units["outbox/0"].WorkloadStatus.Message == fmt.Sprintf("n=%d.3", last)
	})
	deadline := time.Now().Add(readyTimeout)
	var got [][2]int
	var dropped int
	for {
		got, dropped = a.debugLog()
		if len(got)+dropped >= 3*last || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if dropped == 0 {
		t.Errorf("no log lines reported dropped with a 24-entry outbox over %d offline runs", len(ended(final))-n)
	}
	if len(got)+dropped != 3*last {
		t.Errorf("%d lines delivered + %d dropped, want the %d logged", len(got), dropped, 3*last)
	}
	for i := 1; i < len(got); i++ {
		if p, g := got[i-1], got[i]; g[0] < p[0] || g[0] == p[0] && g[1] <= p[1] {
			t.Errorf("line outbox-line %d.%d after %d.%d: delivered lines must be in order, once", g[0], g[1], p[0], p[1])
			break
		}
	}
	t.Logf("%d runs; %d juju-log lines delivered, %d dropped", last, len(got), dropped)
	if t.Failed() {
		e.dumpLogs()
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}
