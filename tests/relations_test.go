package tests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// relationsTimeout bounds each convergence wait of the relation test.
const relationsTimeout = 3 * time.Minute

// ledgerEntry is one line of a kvstore/kvclient ledger:
// hook|remote unit|remote app|departing unit|extra|context id. Extra is
// empty on the line each hook writes first, so those lines are the hook
// sequence.
type ledgerEntry struct {
	Hook, Remote, RemoteApp, Departing, Extra, Context string
}

func (l ledgerEntry) String() string {
	return fmt.Sprintf("%s(%s)", l.Hook, l.Remote)
}

func readLedger(t *testing.T, dir, unit string) (hooks []ledgerEntry, data []ledgerEntry) {
	t.Helper()
	path := filepath.Join(dir, strings.ReplaceAll(unit, "/", "-"))
	for _, line := range readLinesIfExists(path) {
		f := strings.Split(line, "|")
		if len(f) != 6 {
			t.Fatalf("%s: malformed ledger line %q", path, line)
		}
		e := ledgerEntry{f[0], f[1], f[2], f[3], f[4], f[5]}
		if e.Extra == "" {
			hooks = append(hooks, e)
		} else {
			data = append(data, e)
		}
	}
	return hooks, data
}

func readLinesIfExists(path string) []string {
	data, err := readFileIfExists(path)
	if err != nil || data == "" {
		return nil
	}
	return strings.Split(strings.TrimRight(data, "\n"), "\n")
}

// waitLedgers polls until cond holds for the ledgers of units.
func waitLedgers(t *testing.T, e *env, dir string, what string, units []string, cond func(unit string, hooks, data []ledgerEntry) bool) {
	t.Helper()
	deadline := time.Now().Add(relationsTimeout)
	for {
		pending := ""
		for _, u := range units {
			hooks, data := readLedger(t, dir, u)
			if !cond(u, hooks, data) {
				pending = u
				break
			}
		}
		if pending == "" {
			return
		}
		if time.Now().After(deadline) {
			hooks, data := readLedger(t, dir, pending)
			t.Fatalf("%s: not reached for %s after %v\nhooks: %v\ndata: %v", what, pending, relationsTimeout, hooks, data)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func hasData(data []ledgerEntry, hook, remote, extra string) bool {
	return slices.ContainsFunc(data, func(d ledgerEntry) bool {
		return d.Hook == hook && d.Remote == remote && d.Extra == extra
	})
}

func unitsOf(app string, nums ...int) []string {
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = app + "/" + strconv.Itoa(n)
	}
	return out
}

// relationHooks keeps the hooks of one endpoint ("db-relation-...").
func relationHooks(hooks []ledgerEntry, endpoint string) []ledgerEntry {
	var out []ledgerEntry
	for _, h := range hooks {
		if strings.HasPrefix(h.Hook, endpoint+"-relation-") {
			out = append(out, h)
		}
	}
	return out
}

// checkJoinedSequence asserts the §2.2/§2.3 rules for one unit and one
// endpoint while units join: exactly one -created, first and before any
// other hook of the relation; each remote unit -joined exactly once and
// immediately followed by its -changed; no -departed or -broken.
func checkJoinedSequence(t *testing.T, unit, endpoint string, hooks []ledgerEntry, remotes []string) {
	t.Helper()
	rel := relationHooks(hooks, endpoint)
	if len(rel) == 0 || rel[0].Hook != endpoint+"-relation-created" || rel[0].Remote != "" {
		t.Errorf("%s: %s hooks must start with one %s-relation-created: %v", unit, endpoint, endpoint, rel)
		return
	}
	created := 0
	for i, h := range rel {
		switch h.Hook {
		case endpoint + "-relation-created":
			created++
		case endpoint + "-relation-joined":
			if i+1 >= len(rel) || rel[i+1].Hook != endpoint+"-relation-changed" || rel[i+1].Remote != h.Remote {
				t.Errorf("%s: %s-relation-joined(%s) not immediately followed by its -changed: %v", unit, endpoint, h.Remote, rel)
			}
		case endpoint + "-relation-departed", endpoint + "-relation-broken":
			t.Errorf("%s: unexpected %s while units only joined: %v", unit, h, rel)
		}
	}
	if created != 1 {
		t.Errorf("%s: %s-relation-created ran %d times, want once: %v", unit, endpoint, created, rel)
	}
	for _, r := range remotes {
		n := 0
		for _, h := range rel {
			if h.Hook == endpoint+"-relation-joined" && h.Remote == r {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %s-relation-joined(%s) ran %d times, want once: %v", unit, endpoint, r, n, rel)
		}
	}
}

// TestRelations is issue 6's first acceptance test: integrate a provider
// (kvstore, with a peer relation) and a requirer (kvclient), scale both
// to 3, exchange unit and application data, remove a unit on each side,
// then the relation, and check every unit's hook sequence against the
// contract (§2.2 rules (a)–(f), §2.3).
func TestRelations(t *testing.T) {
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/kvstore", "--config", "ledger-dir="+ledgers)
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/kvclient", "--config", "ledger-dir="+ledgers)
	allIdle := appsReady
	waitFor(t, e, readyTimeout, "kvstore/0 and kvclient/0 active", allIdle(map[string]int{"kvstore": 1, "kvclient": 1}))

	// Wrong integrations are refused with a clear error and change nothing.
	for _, bad := range []struct{ a, b, want string }{
		{"kvstore", "kvstore", "to itself"},
		{"kvstore:nope", "kvclient", `no "nope" endpoint`},
		{"kvstore", "nosuch", `"nosuch" not found`},
	} {
		r := e.troupe(commandTimeout, "integrate", bad.a, bad.b)
		if r.code == 0 || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("integrate %s %s: want a failure mentioning %q: %s", bad.a, bad.b, bad.want, r)
		}
	}

	e.mustTroupe(commandTimeout, "integrate", "kvstore", "kvclient")
	dup := e.troupe(commandTimeout, "integrate", "kvclient:db", "kvstore:db")
	if dup.code == 0 || !strings.Contains(dup.stderr, "already exists") {
		t.Errorf("a second identical integrate must fail with 'already exists': %s", dup)
	}
	e.mustTroupe(commandTimeout, "add-unit", "kvstore", "-n", "2")
	e.mustTroupe(commandTimeout, "add-unit", "kvclient", "-n", "2")
	doc := waitFor(t, e, readyTimeout, "3 units each active", allIdle(map[string]int{"kvstore": 3, "kvclient": 3}))
	if rel := doc.Applications["kvclient"].Relations["db"]; len(rel) != 1 || rel[0].RelatedApplication != "kvstore" || rel[0].Interface != "kv" {
		t.Errorf("status: kvclient relations[db] = %+v, want kvstore over kv", rel)
	}
	if rel := doc.Applications["kvstore"].Relations["cluster"]; len(rel) != 1 || rel[0].RelatedApplication != "kvstore" {
		t.Errorf("status: kvstore relations[cluster] = %+v, want the peer relation", rel)
	}

	// open-port in start is committed with the hook and shown in status.
	doc = waitFor(t, e, readyTimeout, "kvstore ports open", func(doc statusDoc) bool {
		for _, u := range doc.Applications["kvstore"].Units {
			if !slices.Equal(u.OpenPorts, []string{"7000/tcp", "7001-7002/udp"}) {
				return false
			}
		}
		return len(doc.Applications["kvstore"].Units) == 3
	})
	stores, clients := unitsOf("kvstore", 0, 1, 2), unitsOf("kvclient", 0, 1, 2)
	// Unit data both ways and the provider leader's application data.
	waitLedgers(t, e, ledgers, "each kvstore unit saw every client's request", stores, func(u string, _, data []ledgerEntry) bool {
		for _, c := range clients {
			if !hasData(data, "db-relation-changed", c, "want=key-of-"+c) {
				return false
			}
		}
		return true
	})
	waitLedgers(t, e, ledgers, "each kvclient unit saw every store host and the app endpoint", clients, func(u string, _, data []ledgerEntry) bool {
		for _, s := range stores {
			if !hasData(data, "db-relation-changed", s, "host="+s) {
				return false
			}
		}
		return hasData(data, "db-relation-changed", "", "endpoint=kv://kvstore")
	})
	waitLedgers(t, e, ledgers, "each kvstore unit met its peers", stores, func(u string, _, data []ledgerEntry) bool {
		for _, p := range stores {
			if p != u && !hasData(data, "cluster-relation-changed", p, "peer-host="+p) {
				return false
			}
		}
		return true
	})
	for _, u := range stores[1:] {
		// leader-set by the leader in leader-elected, leader-get by the
		// others in leader-settings-changed.
		if _, data := readLedger(t, ledgers, u); !hasData(data, "leader-settings-changed", "", "leader=kvstore/0") {
			t.Errorf("%s: leader-settings-changed did not see the leader's settings: %v", u, data)
		}
	}
	for _, u := range stores {
		// state-set in install, state-get in start: charm state outlives
		// the hook that wrote it.
		if _, data := readLedger(t, ledgers, u); !hasData(data, "start", "", "state="+u) {
			t.Errorf("%s: start did not read back the state install set: %v", u, data)
		}
	}
	waitFor(t, e, readyTimeout, "all idle after the exchange", allIdle(map[string]int{"kvstore": 3, "kvclient": 3}))

	for _, u := range append(append([]string{}, stores...), clients...) {
		hooks, _ := readLedger(t, ledgers, u)
		remotes, self := clients, "kvstore"
		if strings.HasPrefix(u, "kvclient/") {
			remotes, self = stores, "kvclient"
		}
		checkJoinedSequence(t, u, "db", hooks, remotes)
		names := make([]string, len(hooks))
		for i, h := range hooks {
			names[i] = h.Hook
		}
		install, start := slices.Index(names, "install"), slices.Index(names, "start")
		created := slices.Index(names, "db-relation-created")
		if install != 0 || start < 0 || created < install {
			t.Errorf("%s: hooks %v: want install first, then db-relation-created after it", u, names)
		}
		// Units added after the integrate meet the relation in their first
		// deploy: relation-created comes before the leader hook, config-changed
		// and start (§2.3, first deploy).
		if !strings.HasSuffix(u, "/0") && created > start {
			t.Errorf("%s: db-relation-created ran after start although the relation existed before the unit: %v", u, names)
		}
		if firstJoin := slices.IndexFunc(hooks, func(h ledgerEntry) bool { return strings.HasSuffix(h.Hook, "-relation-joined") }); firstJoin >= 0 && firstJoin < start {
			t.Errorf("%s: a -joined hook ran before start: %v", u, names)
		}
		if self == "kvstore" {
			var peers []string
			for _, p := range stores {
				if p != u {
					peers = append(peers, p)
				}
			}
			checkJoinedSequence(t, u, "cluster", hooks, peers)
		} else {
			// The application-level -changed carries no remote unit.
			if !slices.ContainsFunc(hooks, func(h ledgerEntry) bool {
				return h.Hook == "db-relation-changed" && h.Remote == "" && h.RemoteApp == "kvstore"
			}) {
				t.Errorf("%s: no application-level db-relation-changed from kvstore: %v", u, hooks)
			}
		}
	}

	// Remove one unit on each side, one after the other.
	lens := map[string]int{}
	for _, u := range append(append([]string{}, stores...), clients...) {
		hooks, _ := readLedger(t, ledgers, u)
		lens[u] = len(hooks)
	}
	e.mustTroupe(commandTimeout, "remove-unit", "kvstore/2")
	waitFor(t, e, relationsTimeout, "kvstore/2 gone", allIdle(map[string]int{"kvstore": 2, "kvclient": 3}))
	waitLedgers(t, e, ledgers, "kvstore/2 departure seen", append(unitsOf("kvstore", 0, 1), clients...), func(u string, hooks, _ []ledgerEntry) bool {
		return slices.ContainsFunc(hooks[lens[u]:], func(h ledgerEntry) bool {
			return strings.HasSuffix(h.Hook, "-relation-departed") && h.Remote == "kvstore/2"
		})
	})
	// kvclient/2 saw kvstore/2 go; its own tear-down starts after that.
	hooks, _ := readLedger(t, ledgers, "kvclient/2")
	lens["kvclient/2"] = len(hooks)
	e.mustTroupe(commandTimeout, "remove-unit", "kvclient/2")
	waitFor(t, e, relationsTimeout, "kvclient/2 gone", allIdle(map[string]int{"kvstore": 2, "kvclient": 2}))
	waitLedgers(t, e, ledgers, "kvclient/2 departure seen", unitsOf("kvstore", 0, 1), func(u string, hooks, _ []ledgerEntry) bool {
		return slices.ContainsFunc(hooks[lens[u]:], func(h ledgerEntry) bool { return h.Hook == "db-relation-departed" && h.Remote == "kvclient/2" })
	})

	// The removed units: -departed for each remote unit (departing = the
	// unit itself), then -broken for db, departed only for the peer
	// relation, then stop and remove.
	for _, c := range []struct {
		unit     string
		want     []string
		departed []string
	}{
		{"kvstore/2", []string{"db-relation-departed", "db-relation-departed", "db-relation-departed", "db-relation-broken",
			"cluster-relation-departed", "cluster-relation-departed", "stop", "remove"}, nil},
		{"kvclient/2", []string{"db-relation-departed", "db-relation-departed", "db-relation-broken", "stop", "remove"}, nil},
	} {
		hooks, _ := readLedger(t, ledgers, c.unit)
		tail := hooks[lens[c.unit]:]
		var names []string
		for _, h := range tail {
			names = append(names, h.Hook)
			if h.Hook == "db-relation-departed" || h.Hook == "cluster-relation-departed" {
				if h.Departing != c.unit {
					t.Errorf("%s: %s with JUJU_DEPARTING_UNIT=%q, want %q", c.unit, h, h.Departing, c.unit)
				}
			}
		}
		if !slices.Equal(names, c.want) {
			t.Errorf("%s: tear-down hooks %v, want %v", c.unit, names, c.want)
		}
	}
	// In its stop hook kvstore/2 closed 7000/tcp; opened-ports shows the
	// hook's own pending change.
	if _, data := readLedger(t, ledgers, "kvstore/2"); !hasData(data, "stop", "", "ports=7001-7002/udp ") {
		t.Errorf("kvstore/2: opened-ports in stop after close-port: %v", data)
	}
	// The others saw exactly one -departed per removed unit, departing =
	// the removed unit, and no -broken.
	for _, u := range append(unitsOf("kvstore", 0, 1), unitsOf("kvclient", 0, 1)...) {
		hooks, _ := readLedger(t, ledgers, u)
		var got []string
		for _, h := range hooks[lens[u]:] {
			if strings.HasSuffix(h.Hook, "-relation-broken") {
				t.Errorf("%s: unexpected %s after a remote unit left", u, h)
			}
			if strings.HasSuffix(h.Hook, "-relation-departed") {
				if h.Departing != h.Remote {
					t.Errorf("%s: %s with JUJU_DEPARTING_UNIT=%q, want the departing remote unit", u, h, h.Departing)
				}
				got = append(got, h.Hook+"("+h.Remote+")")
			}
		}
		want := []string{"db-relation-departed(kvclient/2)"}
		if strings.HasPrefix(u, "kvstore/") {
			want = []string{"db-relation-departed(kvclient/2)", "cluster-relation-departed(kvstore/2)"}
		} else {
			want = []string{"db-relation-departed(kvstore/2)"}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: departures %v, want %v", u, got, want)
		}
		lens[u] = len(hooks)
	}

	// Remove the relation: every remaining unit departs each remote unit,
	// then breaks; the peer relation is untouched.
	e.mustTroupe(commandTimeout, "remove-relation", "kvstore", "kvclient")
	waitFor(t, e, relationsTimeout, "db relation gone from status", func(doc statusDoc) bool {
		return len(doc.Applications["kvclient"].Relations) == 0 && len(doc.Applications["kvstore"].Relations["db"]) == 0 &&
			len(doc.Applications["kvstore"].Relations["cluster"]) == 1 && allIdle(map[string]int{"kvstore": 2, "kvclient": 2})(doc)
	})
	waitLedgers(t, e, ledgers, "db-relation-broken everywhere", append(unitsOf("kvstore", 0, 1), unitsOf("kvclient", 0, 1)...), func(u string, hooks, _ []ledgerEntry) bool {
		return slices.ContainsFunc(hooks[lens[u]:], func(h ledgerEntry) bool { return h.Hook == "db-relation-broken" })
	})
	for _, u := range append(unitsOf("kvstore", 0, 1), unitsOf("kvclient", 0, 1)...) {
		hooks, _ := readLedger(t, ledgers, u)
		var got []string
		for _, h := range hooks[lens[u]:] {
			got = append(got, h.String())
		}
		remotes := unitsOf("kvclient", 0, 1)
		if strings.HasPrefix(u, "kvclient/") {
			remotes = unitsOf("kvstore", 0, 1)
		}
		want := []string{"db-relation-departed(" + remotes[0] + ")", "db-relation-departed(" + remotes[1] + ")", "db-relation-broken()"}
		if !slices.Equal(got, want) {
			t.Errorf("%s: hooks after remove-relation %v, want %v", u, got, want)
		}
	}
	if r := e.troupe(commandTimeout, "remove-relation", "kvstore", "kvclient"); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("removing a removed relation must fail with 'not found': %s", r)
	}
	if r := e.troupe(commandTimeout, "remove-relation", "kvstore", "kvstore"); r.code == 0 {
		t.Errorf("removing a peer relation must fail: %s", r)
	}
}

func readFileIfExists(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return string(data), err
}
