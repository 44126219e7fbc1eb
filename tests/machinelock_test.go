package tests

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMachineLockSerialisesUnitsOnOneMachine is issue 4's machine-lock
// acceptance test (contract §8.3): four units placed on one machine with
// `--to` run their hooks one at a time, and the machine's lock log shows
// that they waited for each other. It also checks placement errors,
// `add-machine`, and that removing one unit of a shared machine keeps the
// machine while others remain on it.
func TestMachineLockSerialisesUnitsOnOneMachine(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/lockcheck", "lock")
	e.mustTroupe(commandTimeout, "add-unit", "lock", "-n", "3", "--to", "0,0,0")

	// Placement that cannot be honoured is refused and changes nothing.
	before, _, err := e.status()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ to, want string }{
		{"7", `no such machine`},
		{"lxd:0", "not supported yet"},
		{"0,0", "2 placements for 1 units"},
	} {
		r := e.troupe(commandTimeout, "add-unit", "lock", "--to", tc.to)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) || !strings.HasPrefix(r.stderr, "ERROR ") {
			t.Errorf("add-unit --to %s: want a non-zero exit and ERROR ...%q, got %s", tc.to, tc.want, r)
		}
	}

	units := []string{"lock/0", "lock/1", "lock/2", "lock/3"}
	ledgerOf := func(u string) string {
		dir := "unit-" + strings.ReplaceAll(u, "/", "-")
		for _, p := range findFiles(t, e.home, "lock-ledger") {
			if filepath.Base(filepath.Dir(p)) == dir {
				return p
			}
		}
		return ""
	}
	started := func(u string) bool {
		p := ledgerOf(u)
		return p != "" && strings.Contains(readFile(t, p), "end start ")
	}
	doc := waitFor(t, e, 120*time.Second, "four units on machine 0, started and idle", func(doc statusDoc) bool {
		app := doc.Applications["lock"]
		if len(app.Units) != len(units) {
			return false
		}
		for _, u := range units {
			st, ok := app.Units[u]
			if !ok || st.Machine != "0" || st.JujuStatus.Current != "idle" || !started(u) {
				return false
			}
		}
		return true
	})
	if len(before.Applications["lock"].Units) != len(units) {
		t.Errorf("refused add-unit calls changed the units: %s", summary(before))
	}
	if len(doc.Machines) != 1 {
		t.Fatalf("want exactly machine 0, got %s", summary(doc))
	}

	// Every hook interval of every unit on the machine, from the ledgers.
	type span struct {
		unit, hook string
		start, end int64
	}
	var spans []span
	for _, u := range units {
		ledger := ledgerOf(u)
		if ledger == "" {
			t.Fatalf("no lock-ledger for %s under %s", u, e.home)
		}
		open := map[string]int64{}
		hooks := 0
		for _, l := range readLines(t, ledger) {
			f := strings.Fields(l)
			if len(f) != 3 {
				t.Fatalf("%s: bad ledger line %q", u, l)
			}
			ns, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				t.Fatalf("%s: bad time in %q: %v", u, l, err)
			}
			switch f[0] {
			case "start":
				open[f[1]] = ns
			case "end":
				st, ok := open[f[1]]
				if !ok {
					t.Fatalf("%s: %q ends without a start", u, l)
				}
				delete(open, f[1])
				spans = append(spans, span{u, f[1], st, ns})
				hooks++
			}
		}
		if hooks < 4 { // install, leader-elected or leader-settings-changed, config-changed, start
			t.Errorf("%s ran %d hooks, want at least 4", u, hooks)
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := 1; i < len(spans); i++ {
		prev, cur := spans[i-1], spans[i]
		if cur.start < prev.end {
			t.Errorf("hooks overlap: %s %s [%d,%d] and %s %s [%d,%d]",
				prev.unit, prev.hook, prev.start, prev.end, cur.unit, cur.hook, cur.start, cur.end)
		}
	}

	// The lock log of the machine shows the units waiting for each other.
	logs := findFiles(t, e.home, "machine-lock.log")
	if len(logs) != 1 {
		t.Fatalf("want one machine-lock.log, got %v", logs)
	}
	var waited, entries int
	var maxWait time.Duration
	for _, l := range readLines(t, logs[0]) {
		i := strings.Index(l, ", waited ")
		if i < 0 {
			continue
		}
		entries++
		w, err := time.ParseDuration(strings.SplitN(l[i+len(", waited "):], ",", 2)[0])
		if err != nil {
			t.Fatalf("bad lock log line %q: %v", l, err)
		}
		if w > 0 {
			waited++
		}
		maxWait = max(maxWait, w)
	}
	if entries < len(spans) || waited == 0 {
		t.Errorf("lock log: %d entries (want >= %d hooks), %d with a non-zero wait (want > 0):\n%s",
			entries, len(spans), waited, readFile(t, logs[0]))
	}
	t.Logf("%d hooks of %d units on one machine, none overlapping; lock log: %d entries, %d waited (longest %s)",
		len(spans), len(units), entries, waited, maxWait)

	// Removing the unit machine 0 was allocated for keeps the machine: the
	// other three still run on it.
	e.mustTroupe(commandTimeout, "remove-unit", "lock/0")
	waitFor(t, e, 90*time.Second, "lock/0 gone, machine 0 kept for the others", func(doc statusDoc) bool {
		_, gone := doc.Applications["lock"].Units["lock/0"]
		_, kept := doc.Machines["0"]
		return !gone && kept && len(doc.Applications["lock"].Units) == 3
	})
	doc, _, err = e.status()
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := doc.Machines["0"]; !ok || m.JujuStatus.Current != "started" {
		t.Errorf("machine 0 after removing one of its units: %+v (present %v), want started", m, ok)
	}

	// An empty machine from add-machine is provisioned and kept.
	r := e.mustTroupe(commandTimeout, "add-machine")
	if !strings.Contains(r.stderr, "created machine 1") {
		t.Errorf("add-machine: want 'created machine 1', got %s", r)
	}
	// deploy --to puts the new application's unit on it.
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/lockcheck", "other", "--to", "1")
	waitFor(t, e, 90*time.Second, "other/0 on machine 1, idle", func(doc statusDoc) bool {
		u, ok := doc.Applications["other"].Units["other/0"]
		return ok && u.Machine == "1" && u.JujuStatus.Current == "idle" && started("other/0")
	})
	// Removing the last units releases machine 0; the standalone machine
	// 1 stays without its unit.
	e.mustTroupe(commandTimeout, "remove-unit", "lock/1", "lock/2", "lock/3", "other/0")
	waitFor(t, e, 120*time.Second, "machine 0 released with its last unit, machine 1 kept", func(doc statusDoc) bool {
		_, m0 := doc.Machines["0"]
		m1, ok := doc.Machines["1"]
		return !m0 && ok && m1.JujuStatus.Current == "started" &&
			len(doc.Applications["lock"].Units) == 0 && len(doc.Applications["other"].Units) == 0
	})
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}
