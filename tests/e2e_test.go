package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	helloUnits   = 3
	readyTimeout = 120 * time.Second
)

// TestHello is the whole life of a controller: bootstrap, deploy three units
// of the hello charm, wait until they settle, check hook order and
// leadership, check that bad deploys are rejected without side effects, then
// destroy the controller and check that nothing is left running. (The name is
// short because TROUPE_HOME is derived from it and socket paths are short.)
func TestHello(t *testing.T) {
	e := newEnv(t)

	port := freePort(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(port))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "-n", strconv.Itoa(helloUnits))

	doc := waitHelloReady(t, e)

	t.Run("leadership", func(t *testing.T) {
		var leaders []string
		for name, u := range doc.Applications["hello"].Units {
			if u.Leader {
				leaders = append(leaders, name)
			}
		}
		if len(leaders) != 1 {
			t.Errorf("want exactly one leader among the hello units, got %d: %v", len(leaders), leaders)
		}
	})

	t.Run("machines", func(t *testing.T) {
		for name, u := range doc.Applications["hello"].Units {
			if u.Machine == "" {
				t.Errorf("unit %s has no machine in status", name)
			} else if _, ok := doc.Machines[u.Machine]; !ok {
				t.Errorf("unit %s is on machine %q, which status does not list", name, u.Machine)
			}
		}
	})

	t.Run("hook order", func(t *testing.T) {
		checkLedgers(t, e, doc)
	})

	t.Run("bad deploys are rejected", func(t *testing.T) {
		before := summary(doc)
		noMeta := t.TempDir()
		if err := os.WriteFile(filepath.Join(noMeta, "README.md"), []byte("not a charm\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			args   []string
			stderr string // besides ERROR, the message must mention this
		}{
			{"no metadata.yaml", []string{"deploy", noMeta}, "metadata.yaml"},
			{"unknown config option", []string{"deploy", "./testcharms/hello", "hello2", "--config", "nosuch=1"}, "nosuch"},
			{"zero units", []string{"deploy", "./testcharms/hello", "hello3", "-n", "0"}, ""},
			{"units not a number", []string{"deploy", "./testcharms/hello", "hello4", "-n", "abc"}, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.troupe(commandTimeout, tt.args...)
				if r.err != nil {
					t.Fatalf("command did not complete: %s", r)
				}
				if r.code == 0 {
					t.Errorf("want a non-zero exit code, got 0: %s", r)
				}
				if !strings.Contains(r.stderr, "ERROR") {
					t.Errorf("want ERROR on stderr: %s", r)
				}
				if tt.stderr != "" && !strings.Contains(r.stderr, tt.stderr) {
					t.Errorf("want the error to mention %q: %s", tt.stderr, r)
				}
				after, raw, err := e.status()
				if err != nil {
					t.Fatalf("%v\n%s", err, raw)
				}
				if got := summary(after); got != before {
					t.Errorf("a rejected deploy changed the model\nbefore:\n%s\nafter:\n%s", before, got)
				}
			})
		}
	})

	t.Run("destroy-controller", func(t *testing.T) {
		e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
		if left := waitNoProcesses(e.home, 10*time.Second); len(left) > 0 {
			t.Errorf("processes still running 10s after destroy-controller:\n%s", strings.Join(left, "\n"))
		}
		if _, err := os.Stat(filepath.Join(e.home, "controller")); !os.IsNotExist(err) {
			t.Errorf("controller data %s still exists after destroy-controller (stat: %v)", filepath.Join(e.home, "controller"), err)
		}
	})
}

// waitHelloReady polls status once a second until every hello unit is
// active and idle, and returns that status.
func waitHelloReady(t *testing.T, e *env) statusDoc {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	var (
		last    string
		lastErr error
	)
	for {
		doc, raw, err := e.status()
		last, lastErr = raw, err
		if err == nil && helloReady(doc) {
			return doc
		}
		if time.Now().After(deadline) {
			t.Fatalf("hello units not all active/idle after %v (last error: %v); last status:\n%s\n(agent logs follow)",
				readyTimeout, lastErr, last)
		}
		time.Sleep(time.Second)
	}
}

func helloReady(doc statusDoc) bool {
	app, ok := doc.Applications["hello"]
	if !ok || len(app.Units) != helloUnits {
		return false
	}
	for _, u := range app.Units {
		if u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" {
			return false
		}
	}
	return true
}

// unitTagRE finds a unit's tag (unit-hello-0) in a path, when the agent's
// directory layout names it.
var unitTagRE = regexp.MustCompile(`unit-(hello-\d+)`)

// checkLedgers checks each unit's hook ledger (written by the hello charm)
// starts install, leader-elected or leader-settings-changed, config-changed,
// start, and that exactly the leader ran leader-elected.
func checkLedgers(t *testing.T, e *env, doc statusDoc) {
	ledgers := findFiles(t, e.home, "hook-ledger")
	if len(ledgers) != helloUnits {
		t.Fatalf("want %d hook-ledger files under %s, found %d: %v", helloUnits, e.home, len(ledgers), ledgers)
	}
	var elected []string
	for _, path := range ledgers {
		hooks := readLines(t, path)
		if len(hooks) < 4 {
			t.Errorf("%s: want at least install, leader hook, config-changed, start; got %q", path, hooks)
			continue
		}
		want := []string{"install", hooks[1], "config-changed", "start"}
		if hooks[1] != "leader-elected" && hooks[1] != "leader-settings-changed" {
			want[1] = "leader-elected|leader-settings-changed"
		}
		if !slices.Equal(hooks[:4], want) {
			t.Errorf("%s: hooks ran in order %q, want it to start %q", path, hooks, want)
		}
		if slices.Contains(hooks, "leader-elected") {
			elected = append(elected, path)
			// When the path names the unit, it must be the leader.
			if m := unitTagRE.FindStringSubmatch(path); m != nil {
				unit := strings.Replace(m[1], "-", "/", 1)
				if u, ok := doc.Applications["hello"].Units[unit]; ok && !u.Leader {
					t.Errorf("%s: unit %s ran leader-elected but status says it is not the leader", path, unit)
				}
			}
		}
	}
	if len(elected) != 1 {
		t.Errorf("want exactly one unit to have run leader-elected, got %d: %v", len(elected), elected)
	}
}
