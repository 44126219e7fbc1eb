package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHookErrorRetryAndResolve drives a failing install hook through
// Troupe's error state (contract §2.4): workload `error` with
// `hook failed: "install"` and agent `idle`, automatic retries, then
// `troupe resolve` (re-run the hook) and `troupe resolve --no-retry`
// (skip it), each followed by the rest of the first-deploy sequence.
func TestHookErrorRetryAndResolve(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/flaky", "retry")
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/flaky", "skip")

	inError := func(doc statusDoc, app string) bool {
		u, ok := doc.Applications[app].Units[app+"/0"]
		return ok && u.WorkloadStatus.Current == "error" && u.WorkloadStatus.Message == `hook failed: "install"` &&
			u.JujuStatus.Current == "idle"
	}
	waitFor(t, e, 60*time.Second, "both units in install hook error", func(doc statusDoc) bool {
		return inError(doc, "retry") && inError(doc, "skip")
	})

	unitDir := func(app string) string {
		for _, p := range findFiles(t, e.home, "hook-ledger") {
			if strings.Contains(p, "unit-"+app+"-0") {
				return filepath.Dir(p)
			}
		}
		t.Fatalf("no ledger for %s/0 under %s", app, e.home)
		return ""
	}
	failures := func(app string) int {
		n := 0
		for _, l := range readLines(t, filepath.Join(unitDir(app), "hook-ledger")) {
			if l == "install:failed" {
				n++
			}
		}
		return n
	}
	// Automatic retry: the failed hook runs again without anyone asking.
	deadline := time.Now().Add(30 * time.Second)
	for failures("retry") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("install was not retried automatically within 30s; ledger: %v",
				readLines(t, filepath.Join(unitDir("retry"), "hook-ledger")))
		}
		time.Sleep(500 * time.Millisecond)
	}

	// resolve: the hook is run again and, now allowed, succeeds.
	if err := os.WriteFile(filepath.Join(unitDir("retry"), "allow-install"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	resolve(t, e, "retry/0")
	// resolve --no-retry: install is skipped, the unit carries on.
	resolve(t, e, "--no-retry", "skip/0")

	waitFor(t, e, 60*time.Second, "both units active and idle", func(doc statusDoc) bool {
		for _, app := range []string{"retry", "skip"} {
			u := doc.Applications[app].Units[app+"/0"]
			if u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" {
				return false
			}
		}
		return true
	})

	tail := func(app string) []string {
		var out []string
		for _, l := range readLines(t, filepath.Join(unitDir(app), "hook-ledger")) {
			if l != "install:failed" {
				out = append(out, l)
			}
		}
		return out
	}
	if got, want := strings.Join(tail("retry"), ","), "install,leader-elected,config-changed,start"; got != want {
		t.Errorf("retry/0 hooks after its failures: got %s, want %s", got, want)
	}
	if got, want := strings.Join(tail("skip"), ","), "leader-elected,config-changed,start"; got != want {
		t.Errorf("skip/0 hooks after its failures (install skipped): got %s, want %s", got, want)
	}

	// The unit agent's engine report is reachable from the CLI.
	rep := e.mustTroupe(commandTimeout, "show-agent-report", "retry/0", "--format", "json")
	var report map[string]struct {
		State     string `json:"state"`
		Manifolds map[string]struct {
			State      string `json:"state"`
			StartCount int    `json:"start-count"`
		} `json:"manifolds"`
	}
	if err := json.Unmarshal([]byte(rep.stdout), &report); err != nil {
		t.Fatalf("show-agent-report output is not JSON: %v\n%s", err, rep.stdout)
	}
	if u := report["retry/0"].Manifolds["uniter"]; u.State != "started" || u.StartCount < 1 {
		t.Errorf("engine report for retry/0: uniter %+v, want started; report %s", u, rep.stdout)
	}

	// Resolving a unit that is not in error is refused.
	r := e.troupe(commandTimeout, "resolve", "retry/0")
	if r.code == 0 || !strings.Contains(r.stderr, "not in an error state") {
		t.Errorf("resolve of a healthy unit: want a non-zero exit and 'not in an error state', got %s", r)
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}

// resolve runs `troupe resolve args...`. As in Juju, resolve is refused
// while an automatic retry of the hook is running (the agent is then
// executing, not in error), so it is repeated until the unit is back in
// error and accepts it.
func resolve(t *testing.T, e *env, args ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.troupe(commandTimeout, append([]string{"resolve"}, args...)...)
		if r.err == nil && r.code == 0 {
			return
		}
		if !strings.Contains(r.stderr, "not in an error state") || time.Now().After(deadline) {
			t.Fatalf("resolve failed: %s", r)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitFor polls status until cond holds or limit passes.
func waitFor(t *testing.T, e *env, limit time.Duration, what string, cond func(statusDoc) bool) statusDoc {
	t.Helper()
	deadline := time.Now().Add(limit)
	var raw string
	for time.Now().Before(deadline) {
		doc, out, err := e.status()
		raw = out
		if err == nil && cond(doc) {
			return doc
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last status:\n%s", limit, what, raw)
	return statusDoc{}
}
