package tests

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// subStatus is the part of status JSON the subordinate test reads.
type subStatus struct {
	Applications map[string]struct {
		SubordinateTo []string `json:"subordinate-to"`
		Units         map[string]struct {
			Machine        string                `json:"machine"`
			WorkloadStatus statusInfo            `json:"workload-status"`
			JujuStatus     statusInfo            `json:"juju-status"`
			Subordinates   map[string]unitStatus `json:"subordinates"`
		} `json:"units"`
	} `json:"applications"`
}

func (e *env) subStatus() (subStatus, string) {
	e.t.Helper()
	r := e.mustTroupe(commandTimeout, "status", "--format=json")
	var doc subStatus
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		e.t.Fatalf("status JSON: %v\n%s", err, r.stdout)
	}
	return doc, r.stdout
}

// waitSubs polls until every principal unit of app has exactly one
// settled logsub subordinate and the principals are want; it returns the
// principal → subordinate map.
func waitSubs(t *testing.T, e *env, app string, want []string) (subStatus, map[string]string) {
	t.Helper()
	deadline := time.Now().Add(relationsTimeout)
	for {
		doc, raw := e.subStatus()
		subs := map[string]string{}
		ok := len(doc.Applications[app].Units) == len(want)
		for name, u := range doc.Applications[app].Units {
			if !slices.Contains(want, name) || len(u.Subordinates) != 1 || u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" {
				ok = false
			}
			for s, su := range u.Subordinates {
				subs[name] = s
				if su.WorkloadStatus.Current != "active" || su.JujuStatus.Current != "idle" {
					ok = false
				}
			}
		}
		if ok {
			return doc, subs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for one settled logsub unit under each of %v; last status:\n%s", want, raw)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestSubordinate is issue 6 acceptance 7: a subordinate related over
// juju-info gets exactly one unit per principal unit, on its machine, and
// sees only that principal; removing a principal unit removes its
// subordinate.
func TestSubordinate(t *testing.T) {
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/kvstore", "-n", "2", "--config", "ledger-dir="+ledgers)
	if r := e.troupe(commandTimeout, "deploy", "./testcharms/logsub", "-n", "2"); r.code == 0 || !strings.Contains(r.stderr, "subordinate") {
		t.Errorf("deploy of a subordinate with -n 2: want a refusal naming it a subordinate: %s", r)
	}
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/logsub", "--config", "ledger-dir="+ledgers)
	doc, raw := e.subStatus()
	if a, ok := doc.Applications["logsub"]; !ok || len(a.Units) != 0 {
		t.Fatalf("logsub after deploy: want the application with no units:\n%s", raw)
	}
	e.mustTroupe(commandTimeout, "integrate", "logsub", "kvstore")
	doc, subs := waitSubs(t, e, "kvstore", unitsOf("kvstore", 0, 1))
	if got := doc.Applications["logsub"].SubordinateTo; !slices.Equal(got, []string{"kvstore"}) {
		t.Errorf("logsub subordinate-to = %v, want [kvstore]", got)
	}
	if n := len(doc.Applications["logsub"].Units); n != 0 {
		t.Errorf("logsub lists %d units of its own; subordinate units belong under their principals", n)
	}
	checkSubs := func(doc subStatus, subs map[string]string) {
		t.Helper()
		seen := map[string]bool{}
		for principal, sub := range subs {
			if seen[sub] {
				t.Errorf("%s serves two principals: %v", sub, subs)
			}
			seen[sub] = true
			machine := doc.Applications["kvstore"].Units[principal].Machine
			hooks, data := readLedger(t, ledgers, sub)
			if !hasData(data, "install", "", fmt.Sprintf("principal=%s machine=%s", principal, machine)) {
				t.Errorf("%s: want it installed for %s on machine %s; ledger data %v", sub, principal, machine, data)
			}
			// Container scope: each side sees only its co-located unit.
			var joined []string
			for _, h := range hooks {
				if h.Hook == "juju-info-relation-joined" {
					joined = append(joined, h.Remote)
				}
			}
			if !slices.Equal(joined, []string{principal}) {
				t.Errorf("%s: juju-info-relation-joined for %v, want only its principal %s", sub, joined, principal)
			}
			ph, _ := readLedger(t, ledgers, principal)
			joined = nil
			for _, h := range ph {
				if h.Hook == "juju-info-relation-joined" {
					joined = append(joined, h.Remote)
				}
			}
			if !slices.Equal(joined, []string{sub}) {
				t.Errorf("%s: juju-info-relation-joined for %v, want only its subordinate %s", principal, joined, sub)
			}
		}
	}
	checkSubs(doc, subs)

	// A principal added later gets its subordinate too.
	e.mustTroupe(commandTimeout, "add-unit", "kvstore")
	doc, subs = waitSubs(t, e, "kvstore", unitsOf("kvstore", 0, 1, 2))
	checkSubs(doc, subs)
	var names []string
	for _, s := range subs {
		names = append(names, s)
	}
	sort.Strings(names)
	if !slices.Equal(names, unitsOf("logsub", 0, 1, 2)) {
		t.Errorf("subordinate units %v, want exactly logsub/0..2 (one per principal, none extra)", names)
	}

	// Removing a principal unit removes its subordinate, which tears down.
	gone := subs["kvstore/0"]
	e.mustTroupe(commandTimeout, "remove-unit", "kvstore/0")
	doc, subs = waitSubs(t, e, "kvstore", unitsOf("kvstore", 1, 2))
	for _, s := range subs {
		if s == gone {
			t.Errorf("%s is still there after its principal kvstore/0 was removed", gone)
		}
	}
	waitLedgers(t, e, ledgers, gone+" ran stop and remove", []string{gone}, func(_ string, hooks, _ []ledgerEntry) bool {
		n := hookNames(hooks)
		return slices.Contains(n, "stop") && slices.Contains(n, "remove")
	})
	if _, raw := e.subStatus(); strings.Contains(raw, `"`+gone+`"`) {
		t.Errorf("%s still in status after removal:\n%s", gone, raw)
	}
}
