package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// copyCharm copies charm dir src to a new temporary directory, applies
// edits (file name → new content; "" deletes) and returns its path.
func copyCharm(t *testing.T, src string, edits map[string]string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	for name, content := range edits {
		p := filepath.Join(dst, name)
		if content == "" {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// charmRevs reads each application's charm and charm-rev from status.
func charmRevs(t *testing.T, e *env) map[string]string {
	t.Helper()
	r := e.mustTroupe(commandTimeout, "status", "--format=json")
	var doc struct {
		Applications map[string]struct {
			Charm    string `json:"charm"`
			CharmRev int    `json:"charm-rev"`
		} `json:"applications"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, r.stdout)
	}
	out := map[string]string{}
	for n, a := range doc.Applications {
		out[n] = a.Charm + " rev " + strconv.Itoa(a.CharmRev)
	}
	return out
}

func hookNames(hooks []ledgerEntry) []string {
	out := make([]string, len(hooks))
	for i, h := range hooks {
		out[i] = h.Hook
	}
	return out
}

// TestRefresh is issue 6 acceptance 5: `troupe refresh --path` runs
// upgrade-charm then config-changed, exactly once each, on every unit;
// user settings carry over; a new peer endpoint gets its relation; an
// endpoint still in use cannot vanish.
func TestRefresh(t *testing.T) {
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/kvstore", "-n", "2", "--config", "ledger-dir="+ledgers, "--config", "flavour=spicy")
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/kvclient", "--config", "ledger-dir="+ledgers)
	e.mustTroupe(commandTimeout, "integrate", "kvstore", "kvclient")
	settled := func(doc statusDoc) bool {
		for app, n := range map[string]int{"kvstore": 2, "kvclient": 1} {
			units := doc.Applications[app].Units
			if len(units) != n {
				return false
			}
			for _, u := range units {
				if u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" {
					return false
				}
			}
		}
		return true
	}
	waitFor(t, e, readyTimeout, "kvstore and kvclient active and idle", settled)
	stores := unitsOf("kvstore", 0, 1)
	waitLedgers(t, e, ledgers, "kvstore units joined kvclient", stores, func(u string, hooks, _ []ledgerEntry) bool {
		return slices.ContainsFunc(hooks, func(h ledgerEntry) bool { return h.Hook == "db-relation-changed" && h.Remote == "kvclient/0" })
	})
	waitFor(t, e, readyTimeout, "settled after the integrate", settled)
	if got := charmRevs(t, e)["kvstore"]; got != "local:kvstore-0 rev 0" {
		t.Fatalf("before refresh: kvstore charm = %s", got)
	}

	// An endpoint in use cannot vanish: refused, naming the relation.
	meta, err := os.ReadFile("../testcharms/kvstore/metadata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	noDB := copyCharm(t, "../testcharms/kvstore", map[string]string{"metadata.yaml": strings.Replace(string(meta),
		"provides:\n  db:\n    interface: kv\n", "", 1)})
	bad := e.troupe(commandTimeout, "refresh", "kvstore", "--path", noDB)
	if bad.code == 0 || !strings.Contains(bad.stderr, `no "db" endpoint`) || !strings.Contains(bad.stderr, "kvclient:db kvstore:db") {
		t.Errorf("refresh dropping an endpoint in use: want a failure naming the relation: %s", bad)
	}
	t.Logf("refused: %s", strings.TrimSpace(bad.stderr))
	retyped := copyCharm(t, "../testcharms/kvstore", map[string]string{"metadata.yaml": strings.Replace(string(meta),
		"interface: kv\n", "interface: kv2\n", 1)})
	if bad := e.troupe(commandTimeout, "refresh", "kvstore", "--path", retyped); bad.code == 0 || !strings.Contains(bad.stderr, `"kv2"`) {
		t.Errorf("refresh changing the interface of an endpoint in use: want a failure: %s", bad)
	}
	if got := charmRevs(t, e)["kvstore"]; got != "local:kvstore-0 rev 0" {
		t.Errorf("after refused refreshes: kvstore charm = %s, want unchanged", got)
	}

	before := map[string]int{}
	for _, u := range stores {
		hooks, _ := readLedger(t, ledgers, u)
		before[u] = len(hooks)
	}
	// The new revision adds a peer endpoint and an option.
	cfg, err := os.ReadFile("../testcharms/kvstore/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v2 := copyCharm(t, "../testcharms/kvstore", map[string]string{
		"metadata.yaml": string(meta) + "  gossip:\n    interface: kv-gossip\n",
		"config.yaml":   string(cfg) + "  colour:\n    type: string\n    default: blue\n    description: new in revision 1\n",
	})
	r := e.mustTroupe(commandTimeout, "refresh", "kvstore", "--path", v2)
	if !strings.Contains(r.stderr, "revision 1") {
		t.Errorf("refresh output: want the new revision: %s", r)
	}
	// Every unit: upgrade-charm, then config-changed (seeing the carried
	// over user value), each exactly once.
	upgraded := func(n int) func(string, []ledgerEntry, []ledgerEntry) bool {
		return func(u string, hooks, _ []ledgerEntry) bool {
			return countHook(hooks[before[u]:], "upgrade-charm") == n && slices.Contains(hookNames(hooks[before[u]:]), "config-changed")
		}
	}
	waitLedgers(t, e, ledgers, "upgrade-charm and config-changed on every kvstore unit", stores, upgraded(1))
	doc := waitFor(t, e, readyTimeout, "settled after the refresh", settled)
	for _, u := range stores {
		hooks, data := readLedger(t, ledgers, u)
		after := hookNames(hooks[before[u]:])
		up, cc := slices.Index(after, "upgrade-charm"), slices.Index(after, "config-changed")
		if countHook(hooks[before[u]:], "upgrade-charm") != 1 || countHook(hooks[before[u]:], "config-changed") != 1 || up > cc {
			t.Errorf("%s: hooks after refresh %v: want upgrade-charm then config-changed, once each", u, after)
		}
		if cc >= 0 {
			ctxID := hooks[before[u]+cc].Context
			if !slices.ContainsFunc(data, func(d ledgerEntry) bool {
				return d.Hook == "config-changed" && d.Context == ctxID && d.Extra == "flavour=spicy"
			}) {
				t.Errorf("%s: config-changed after refresh did not see the user's flavour=spicy: %v", u, data)
			}
		}
		if !slices.Contains(after, "gossip-relation-created") {
			t.Errorf("%s: the new peer endpoint got no relation (no gossip-relation-created): %v", u, after)
		}
	}
	if got := charmRevs(t, e)["kvstore"]; got != "local:kvstore-1 rev 1" {
		t.Errorf("after refresh: kvstore charm = %s, want local:kvstore-1 rev 1", got)
	}
	if rel := doc.Applications["kvstore"].Relations["gossip"]; len(rel) != 1 || rel[0].RelatedApplication != "kvstore" {
		t.Errorf("status: kvstore relations[gossip] = %+v, want the new peer relation", rel)
	}
	if hooks, _ := readLedger(t, ledgers, "kvclient/0"); slices.Contains(hookNames(hooks), "upgrade-charm") {
		t.Errorf("kvclient/0 ran upgrade-charm although only kvstore was refreshed: %v", hookNames(hooks))
	}

	// The same charm again is a new local revision and upgrades again;
	// with --config (and jubilant's force flags) the new value arrives
	// in the one config-changed that follows upgrade-charm.
	mid := map[string]int{}
	for _, u := range stores {
		hooks, _ := readLedger(t, ledgers, u)
		mid[u] = len(hooks)
	}
	e.mustTroupe(commandTimeout, "refresh", "kvstore", "--path", v2, "--force", "--force-base", "--force-units", "--config", "flavour=sweet")
	waitLedgers(t, e, ledgers, "second upgrade-charm on every kvstore unit", stores, upgraded(2))
	waitFor(t, e, readyTimeout, "settled after the second refresh", settled)
	for _, u := range stores {
		hooks, data := readLedger(t, ledgers, u)
		after := hookNames(hooks[mid[u]:])
		if countHook(hooks[mid[u]:], "upgrade-charm") != 1 || countHook(hooks[mid[u]:], "config-changed") != 1 ||
			slices.Index(after, "upgrade-charm") > slices.Index(after, "config-changed") {
			t.Errorf("%s: hooks after the second refresh %v: want upgrade-charm then config-changed, once each", u, after)
		}
		if !hasData(data, "config-changed", "", "flavour=sweet") {
			t.Errorf("%s: config-changed did not see --config flavour=sweet: %v", u, data)
		}
	}
	if got := charmRevs(t, e)["kvstore"]; got != "local:kvstore-2 rev 2" {
		t.Errorf("after the second refresh: kvstore charm = %s, want local:kvstore-2 rev 2", got)
	}
}

func countHook(hooks []ledgerEntry, name string) int {
	n := 0
	for _, h := range hooks {
		if h.Hook == name {
			n++
		}
	}
	return n
}
