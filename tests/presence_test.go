package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAgentPresenceDisconnectedThenLost freezes a machine agent
// (SIGSTOP): its link goes quiet, so status shows the machine and its
// unit agent `disconnected` with the workload still active, then, past
// the model's lost-after, machine `down`, unit agent `lost` and workload
// `unknown` as Juju does; after SIGCONT the agent is connected again and
// status shows what it last reported.
func TestAgentPresenceDisconnectedThenLost(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello")
	e.mustTroupe(commandTimeout, "model-config", "lost-after=20s")
	ready := func(doc statusDoc) bool {
		u, ok := doc.Applications["hello"].Units["hello/0"]
		return ok && u.WorkloadStatus.Current == "active" && u.JujuStatus.Current == "idle" &&
			doc.Machines[u.Machine].JujuStatus.Current == "started"
	}
	doc := waitFor(t, e, readyTimeout, "hello/0 active and idle", ready)
	mid := doc.Applications["hello"].Units["hello/0"].Machine
	dirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*-machine-"+mid))
	if len(dirs) != 1 {
		t.Fatalf("machine dir of hello/0: %v", dirs)
	}
	pid := agentPID(dirs[0])
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT)
	stopped := time.Now()
	waitFor(t, e, 60*time.Second, "machine and unit agent disconnected, workload still active", func(doc statusDoc) bool {
		u := doc.Applications["hello"].Units["hello/0"]
		if u.JujuStatus.Current == "lost" {
			t.Fatalf("hello/0 shown lost before disconnected: %+v", u)
		}
		return u.JujuStatus.Current == "disconnected" && u.WorkloadStatus.Current == "active" &&
			doc.Machines[mid].JujuStatus.Current == "disconnected"
	})
	t.Logf("disconnected shown %.1fs after SIGSTOP", time.Since(stopped).Seconds())
	doc = waitFor(t, e, 60*time.Second, "machine down, unit agent lost", func(doc statusDoc) bool {
		u := doc.Applications["hello"].Units["hello/0"]
		return u.JujuStatus.Current == "lost" && doc.Machines[mid].JujuStatus.Current == "down"
	})
	u := doc.Applications["hello"].Units["hello/0"]
	if u.WorkloadStatus.Current != "unknown" || u.WorkloadStatus.Message != "agent lost, see 'juju show-status-log hello/0'" {
		t.Errorf("workload of a lost agent: %+v, want unknown \"agent lost, see 'juju show-status-log hello/0'\"", u.WorkloadStatus)
	}
	if u.JujuStatus.Message != "agent is not communicating with the server" {
		t.Errorf("lost agent message: %q", u.JujuStatus.Message)
	}
	t.Logf("lost shown %.1fs after SIGSTOP (lost-after 20s)", time.Since(stopped).Seconds())
	// Hold the cut for 60 s in all, then measure how long the agent takes
	// to be connected, active and idle again.
	time.Sleep(time.Until(stopped.Add(60 * time.Second)))
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	waitFor(t, e, 60*time.Second, "hello/0 active and idle again after SIGCONT", ready)
	t.Logf("converged %.2fs after a %.0fs cut ended", time.Since(resumed).Seconds(), resumed.Sub(stopped).Seconds())
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}

// TestControllerRestartAgentsNeverLost restarts the controller with its
// agents connected, with lost-after at its 1 s minimum and a login rate
// that needs 10 s for the storm: the restart grace keeps every agent from being shown lost or
// down while they reconnect, every agent comes back, and the login
// limiter refused logins beyond its rate (the agents backed off and
// retried). It reports how long all agents took to reconnect.
func TestControllerRestartAgentsNeverLost(t *testing.T) {
	n := 3
	if v := os.Getenv("TROUPE_PRESENCE_UNITS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "-n", strconv.Itoa(n))
	ready := func(doc statusDoc) bool {
		units := doc.Applications["hello"].Units
		for _, u := range units {
			if u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" ||
				doc.Machines[u.Machine].JujuStatus.Current != "started" {
				return false
			}
		}
		return len(units) == n
	}
	waitFor(t, e, readyTimeout+time.Duration(n)*3*time.Second, fmt.Sprintf("%d units active and idle", n), ready)
	e.mustTroupe(commandTimeout, "model-config", "lost-after=1s")

	// A login rate well below the agents' number, so the storm is throttled.
	bf := filepath.Join(e.home, "controller", "bootstrap.json")
	var b map[string]any
	if err := json.Unmarshal([]byte(readFile(t, bf)), &b); err != nil {
		t.Fatal(err)
	}
	// Agents now come back spread over their (5 s capped) redial jitter,
	// not in lockstep, so the rate is low enough that any two logins
	// within 2 s of each other meet the limiter: the storm of 2n logins
	// needs ≥ 4n s of tokens.
	rate := max(0.5, float64(n)/10)
	b["login-rate"], b["login-burst"], b["agent-restart-grace"] = rate, 1, "90s"
	data, _ := json.Marshal(b)
	if err := os.WriteFile(bf, data, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	restartController(t, e)
	var reconnected time.Duration
	deadline := time.Now().Add(90 * time.Second)
	for {
		doc, raw, err := e.status()
		if err == nil {
			for name, u := range doc.Applications["hello"].Units {
				if u.JujuStatus.Current == "lost" || doc.Machines[u.Machine].JujuStatus.Current == "down" {
					t.Fatalf("%s or its machine shown lost/down %.1fs after the controller restart:\n%s", name, time.Since(start).Seconds(), raw)
				}
			}
			if ready(doc) {
				reconnected = time.Since(start)
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("agents not all reconnected within 90s of the controller restart:\n%s", raw)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("all %d machine and %d unit agents reconnected %.2fs after the controller restart began", n, n, reconnected.Seconds())
	throttled := controllerMetric(t, e, "troupe_api_logins_throttled_total")
	t.Logf("logins throttled: %v", throttled)
	if throttled == 0 {
		t.Errorf("with %d agents and a login burst of 1 at %v/s, no login was throttled", 2*n, rate)
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}

// controllerMetric is the sum of a family's samples on the controller's
// /metrics.
func controllerMetric(t *testing.T, e *env, family string) float64 {
	t.Helper()
	addr := strings.TrimSpace(readFile(t, filepath.Join(e.home, "controller", "metrics.addr")))
	body := scrape(t, addr).raw
	var sum float64
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, family+"{") || strings.HasPrefix(l, family+" ") {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}
