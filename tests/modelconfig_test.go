package tests

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestModelConfigReachesUnits covers `troupe model-config` (CLI contract
// §5.8, §7.3) and that the uniter honours the two settings it reads:
// update-status-hook-interval (the hook runs at the model's pace) and
// automatically-retry-hooks=false (a failed hook stays failed until the
// model turns retries back on or the user resolves it).
func TestModelConfigReachesUnits(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))

	read := func() map[string]struct {
		Value  any
		Source string
	} {
		r := e.mustTroupe(commandTimeout, "model-config", "--format", "json")
		var doc map[string]struct {
			Value  any
			Source string
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("model-config --format json is not JSON: %v\n%s", err, r.stdout)
		}
		return doc
	}
	expect := func(key string, value any, source string) {
		t.Helper()
		got, ok := read()[key]
		if !ok || got.Value != value || got.Source != source {
			t.Errorf("%s: got %+v (present %v), want Value %v Source %s", key, got, ok, value, source)
		}
	}
	expect("update-status-hook-interval", "5m", "default")
	expect("automatically-retry-hooks", true, "default")
	e.mustTroupe(commandTimeout, "model-config", "update-status-hook-interval=10s")
	expect("update-status-hook-interval", "10s", "model")
	e.mustTroupe(commandTimeout, "model-config", "--reset", "update-status-hook-interval")
	expect("update-status-hook-interval", "5m", "default")
	if r := e.mustTroupe(commandTimeout, "model-config", "automatically-retry-hooks"); strings.TrimSpace(r.stdout) != "true" {
		t.Errorf("model-config automatically-retry-hooks: got %q, want true", r.stdout)
	}
	tab := e.mustTroupe(commandTimeout, "model-config").stdout
	if !strings.HasPrefix(tab, "Attribute") || !strings.Contains(tab, "automatically-retry-hooks") {
		t.Errorf("tabular model-config:\n%s", tab)
	}
	for _, tc := range []struct{ arg, want string }{
		{"update-status-hook-interval=2h", "out of range"},
		{"update-status-hook-interval=soon", "expected a duration"},
		{"automatically-retry-hooks=perhaps", "expected true or false"},
		{"no-such-key=1", `unknown model config key "no-such-key"`},
	} {
		r := e.troupe(commandTimeout, "model-config", tc.arg)
		if r.code == 0 || !strings.HasPrefix(r.stderr, "ERROR ") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("model-config %s: want a non-zero exit and ERROR ...%q, got %s", tc.arg, tc.want, r)
		}
	}
	expect("update-status-hook-interval", "5m", "default")

	// update-status runs at the model's interval once it is set.
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello")
	waitFor(t, e, 90*time.Second, "hello/0 active", func(doc statusDoc) bool {
		return doc.Applications["hello"].Units["hello/0"].WorkloadStatus.Current == "active"
	})
	e.mustTroupe(commandTimeout, "model-config", "update-status-hook-interval=2s")
	ledger := func(app string) []string {
		for _, p := range findFiles(t, e.home, "hook-ledger") {
			if strings.Contains(p, "unit-"+app+"-0") {
				return readLines(t, p)
			}
		}
		return nil
	}
	count := func(lines []string, hook string) int {
		n := 0
		for _, l := range lines {
			if l == hook {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(60 * time.Second)
	for count(ledger("hello"), "update-status") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("update-status did not run twice within 60s of setting a 2s interval; ledger %v", ledger("hello"))
		}
		time.Sleep(500 * time.Millisecond)
	}
	e.mustTroupe(commandTimeout, "model-config", "--reset", "update-status-hook-interval")

	// With automatic retries off, the failed install is not re-run.
	e.mustTroupe(commandTimeout, "model-config", "automatically-retry-hooks=false")
	expect("automatically-retry-hooks", false, "model")
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/flaky", "noretry")
	waitFor(t, e, 60*time.Second, "noretry/0 in install hook error", func(doc statusDoc) bool {
		u := doc.Applications["noretry"].Units["noretry/0"]
		return u.WorkloadStatus.Current == "error" && u.WorkloadStatus.Message == `hook failed: "install"`
	})
	// Automatic retries would have re-run it twice in 15s (after 2.5–5s,
	// then 5–10s more).
	time.Sleep(15 * time.Second)
	if n := count(ledger("noretry"), "install:failed"); n != 1 {
		t.Fatalf("install ran %d times with automatically-retry-hooks=false, want 1", n)
	}
	// Turning retries back on re-arms the retry timer.
	e.mustTroupe(commandTimeout, "model-config", "automatically-retry-hooks=true")
	deadline = time.Now().Add(30 * time.Second)
	for count(ledger("noretry"), "install:failed") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("install not retried within 30s of automatically-retry-hooks=true; ledger %v", ledger("noretry"))
		}
		time.Sleep(500 * time.Millisecond)
	}
	// resolve --no-retry still skips it.
	e.mustTroupe(commandTimeout, "model-config", "automatically-retry-hooks=false")
	resolve(t, e, "--no-retry", "noretry/0")
	waitFor(t, e, 60*time.Second, "noretry/0 active", func(doc statusDoc) bool {
		return doc.Applications["noretry"].Units["noretry/0"].WorkloadStatus.Current == "active"
	})
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}
