package tests

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ledgerSnapshot reads every ledger file under dir.
func ledgerSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		out[en.Name()] = readFile(t, filepath.Join(dir, en.Name()))
	}
	return out
}

// bundleState is what must not change when a bundle is deployed again:
// applications, units, machines and placements, subordinates, relations.
func bundleState(t *testing.T, e *env) string {
	t.Helper()
	doc, _, err := e.status()
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{summary(doc)}
	sd, _ := e.subStatus()
	for app, a := range sd.Applications {
		for u, st := range a.Units {
			for s := range st.Subordinates {
				lines = append(lines, "subordinate "+s+" of "+u)
			}
		}
		for ep, rels := range doc.Applications[app].Relations {
			for _, r := range rels {
				lines = append(lines, "relation "+app+":"+ep+" "+r.RelatedApplication)
			}
		}
	}
	sort.Strings(lines[1:])
	return strings.Join(lines, "\n")
}

// TestBundle is issue 6 acceptance 6: a bundle of 3 applications and 2
// relations (local charms relative to the bundle file, num_units,
// options, to, a machines section) deploys and settles; deploying it
// again changes nothing; a conflicting bundle is refused by name.
func TestBundle(t *testing.T) {
	e := newEnv(t)
	ledgers := t.TempDir()
	dir := t.TempDir()
	for _, c := range []string{"kvstore", "kvclient", "logsub"} {
		if err := os.CopyFS(filepath.Join(dir, "charms", c), os.DirFS(filepath.Join("..", "testcharms", c))); err != nil {
			t.Fatal(err)
		}
	}
	bundleFile := filepath.Join(dir, "bundle.yaml")
	bundle := `description: kv service, a client and a log subordinate
machines:
  "0": {}
applications:
  kvstore:
    charm: ./charms/kvstore
    num_units: 2
    to: ["0"]
    options:
      ledger-dir: ` + ledgers + `
      flavour: salty
  kvclient:
    charm: ./charms/kvclient
    num_units: 1
    to: ["kvstore/0"]
    options:
      ledger-dir: ` + ledgers + `
  logsub:
    charm: ./charms/logsub
    options:
      ledger-dir: ` + ledgers + `
relations:
  - [kvclient:db, kvstore:db]
  - [logsub, kvstore]
`
	if err := os.WriteFile(bundleFile, []byte(bundle), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	dry := e.mustTroupe(commandTimeout, "deploy", "--dry-run", bundleFile)
	if !strings.Contains(dry.stdout, "- integrate logsub kvstore") || !strings.Contains(dry.stdout, "- add-machine 0") {
		t.Errorf("deploy --dry-run: want the planned changes: %s", dry)
	}
	if doc, raw, err := e.status(); err != nil || len(doc.Applications) != 0 || len(doc.Machines) != 0 {
		t.Errorf("deploy --dry-run changed the model (%v):\n%s", err, raw)
	}
	r := e.mustTroupe(commandTimeout, "deploy", bundleFile)
	t.Logf("first deploy:\n%s", r.stderr)
	doc, subs := waitSubs(t, e, "kvstore", unitsOf("kvstore", 0, 1))
	if len(subs) != 2 {
		t.Errorf("want one logsub unit per kvstore unit, got %v", subs)
	}
	settled := waitFor(t, e, readyTimeout, "kvclient active and idle", func(d statusDoc) bool {
		u, ok := d.Applications["kvclient"].Units["kvclient/0"]
		return ok && u.WorkloadStatus.Current == "active" && u.JujuStatus.Current == "idle"
	})
	if a, b := settled.Applications["kvclient"].Units["kvclient/0"].Machine, doc.Applications["kvstore"].Units["kvstore/0"].Machine; a != b {
		t.Errorf("kvclient/0 on machine %s, want kvstore/0's machine %s (to: kvstore/0)", a, b)
	}
	if a, b := doc.Applications["kvstore"].Units["kvstore/0"].Machine, doc.Applications["kvstore"].Units["kvstore/1"].Machine; a == b {
		t.Errorf("kvstore/0 and kvstore/1 share machine %s; only the first was placed", a)
	}
	waitLedgers(t, e, ledgers, "kvstore units saw kvclient/0's request", unitsOf("kvstore", 0, 1), func(u string, _, data []ledgerEntry) bool {
		return hasData(data, "db-relation-changed", "kvclient/0", "want=key-of-kvclient/0")
	})
	for _, u := range unitsOf("kvstore", 0, 1) {
		if _, data := readLedger(t, ledgers, u); !hasData(data, "config-changed", "", "flavour=salty") {
			t.Errorf("%s: the bundle's option flavour=salty not seen by config-changed: %v", u, data)
		}
	}
	waitSubs(t, e, "kvstore", unitsOf("kvstore", 0, 1))
	waitFor(t, e, readyTimeout, "settled", func(d statusDoc) bool {
		for _, a := range d.Applications {
			for _, u := range a.Units {
				if u.JujuStatus.Current != "idle" {
					return false
				}
			}
		}
		return true
	})
	state, ledgersBefore := bundleState(t, e), ledgerSnapshot(t, ledgers)

	// Deploying the same bundle again changes nothing.
	r = e.mustTroupe(commandTimeout, "deploy", bundleFile)
	if !strings.Contains(r.stderr, "No changes") {
		t.Errorf("second deploy: want \"No changes\": %s", r)
	}
	// Give any change a wrongly planned step would start a moment to show.
	time.Sleep(3 * time.Second)
	if got := bundleState(t, e); got != state {
		t.Errorf("second deploy changed the model:\nbefore:\n%s\nafter:\n%s", state, got)
	}
	if got := ledgerSnapshot(t, ledgers); len(got) != len(ledgersBefore) {
		t.Errorf("second deploy: ledgers %d files, before %d", len(got), len(ledgersBefore))
	} else {
		for f, before := range ledgersBefore {
			if got[f] != before {
				t.Errorf("second deploy ran hooks on %s:\n%s", f, strings.TrimPrefix(got[f], before))
			}
		}
	}

	// A bundle whose application exists with another charm is refused
	// by name and changes nothing.
	conflict := filepath.Join(dir, "conflict.yaml")
	if err := os.WriteFile(conflict, []byte("applications:\n  kvstore:\n    charm: ./charms/kvclient\n    num_units: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := e.troupe(commandTimeout, "deploy", conflict)
	if bad.code == 0 || !strings.Contains(bad.stderr, `application "kvstore" exists with charm "kvstore"`) {
		t.Errorf("conflicting bundle: want a refusal naming kvstore: %s", bad)
	}
	if got := bundleState(t, e); got != state {
		t.Errorf("refused bundle changed the model:\nbefore:\n%s\nafter:\n%s", state, got)
	}
}
