package tests

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestConfig: `troupe config` reads Juju's shape, refuses bad values with a
// message naming the option and its type (nothing changes, no hook runs),
// and a good change runs exactly one config-changed per unit, whose
// config-get sees the new value; --reset restores the default.
func TestConfig(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "-n", "2")
	waitFor(t, e, readyTimeout, "hello units active and idle", appsReady(map[string]int{"hello": 2}))

	var cfg struct {
		Application string `json:"application"`
		Settings    map[string]struct {
			Value  any    `json:"value"`
			Type   string `json:"type"`
			Source string `json:"source"`
		} `json:"settings"`
	}
	r := e.mustTroupe(commandTimeout, "config", "hello", "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil {
		t.Fatalf("config --format json: %v\n%s", err, r.stdout)
	}
	if g := cfg.Settings["greeting"]; g.Value != "hello" || g.Type != "string" || g.Source != "default" {
		t.Errorf("greeting before change: %+v", g)
	}
	if p := cfg.Settings["port"]; p.Value != float64(8080) || p.Type != "int" {
		t.Errorf("port must be the JSON number 8080 of type int: %+v", p)
	}

	ledgers := findFiles(t, e.home, "hook-ledger")
	if len(ledgers) != 2 {
		t.Fatalf("want 2 unit ledgers, found %v", ledgers)
	}
	count := func(path, hook string) int {
		n := 0
		for _, l := range readLines(t, path) {
			if l == hook {
				n++
			}
		}
		return n
	}
	waitConfigChanged := func(n int, greeting string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for _, l := range ledgers {
			for count(l, "config-changed") < n || strings.TrimSpace(readFile(t, filepath.Join(filepath.Dir(l), "greeting"))) != greeting {
				if time.Now().After(deadline) {
					t.Fatalf("%s: want %d config-changed seeing %q; ledger %v", l, n, greeting, readLines(t, l))
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}

	bad := e.troupe(commandTimeout, "config", "hello", "port=abc")
	if bad.code == 0 || !strings.Contains(bad.stderr, "ERROR") || !strings.Contains(bad.stderr, "port") {
		t.Errorf("bad value must be refused naming the option: %s", bad)
	}
	e.mustTroupe(commandTimeout, "config", "hello", "greeting=bonjour")
	waitConfigChanged(2, "bonjour")
	if got := strings.TrimSpace(e.mustTroupe(commandTimeout, "config", "hello", "greeting").stdout); got != "bonjour" {
		t.Errorf("config hello greeting: got %q", got)
	}
	e.mustTroupe(commandTimeout, "config", "hello", "--reset", "greeting")
	waitConfigChanged(3, "hello")
	time.Sleep(2 * time.Second) // a second, spurious config-changed would land here
	for _, l := range ledgers {
		if n := count(l, "config-changed"); n != 3 {
			t.Errorf("%s: %d config-changed, want exactly 3 (deploy, set, reset; the refused value runs none): %v", l, n, readLines(t, l))
		}
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}
