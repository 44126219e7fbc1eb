package tests

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cmrStatus is what the cross-model test reads of `status --format json`:
// the usual document plus `offers` and `application-endpoints`, raw.
type cmrStatus struct {
	statusDoc
	Offers               map[string]map[string]any `json:"offers"`
	ApplicationEndpoints map[string]map[string]any `json:"application-endpoints"`
}

func (e *env) statusOf(model string) (cmrStatus, string, bool) {
	var doc cmrStatus
	r := e.troupe(commandTimeout, "status", "--model", model, "--format", "json")
	if r.err != nil || r.code != 0 {
		return doc, r.String(), false
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		return doc, r.stdout, false
	}
	// Maps are never null (cli-contract §3.5).
	if strings.Contains(r.stdout, `"offers":null`) || strings.Contains(r.stdout, `"application-endpoints":null`) ||
		strings.Contains(r.stdout, `"endpoints":null`) || strings.Contains(r.stdout, `"relations":null`) {
		e.t.Errorf("status of %s prints null for a map: %s", model, r.stdout)
	}
	return doc, r.stdout, true
}

func waitModel(t *testing.T, e *env, model, what string, cond func(cmrStatus) bool) cmrStatus {
	t.Helper()
	deadline := time.Now().Add(relationsTimeout)
	var raw string
	for time.Now().Before(deadline) {
		doc, out, ok := e.statusOf(model)
		raw = out
		if ok && cond(doc) {
			return doc
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s in model %s; last status:\n%s", relationsTimeout, what, model, raw)
	return cmrStatus{}
}

func jsonOut(t *testing.T, r result) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%s: stdout is not one JSON object: %v", r, err)
	}
	return v
}

func hasHook(hooks []ledgerEntry, hook string, remote func(string) bool) bool {
	return slices.ContainsFunc(hooks, func(h ledgerEntry) bool { return h.Hook == hook && remote(h.Remote) })
}

func isRemoteUnit(s string) bool {
	app, n, ok := strings.Cut(s, "/")
	return ok && n == "0" && strings.HasPrefix(app, "remote-") && len(app) == len("remote-")+32
}

// TestCrossModelRelation: kvstore offered in model prov, consumed as kvs
// in model cons and integrated with kvclient there. Unit and application
// data flow both ways (the offering side sees the consumer as
// remote-<hex>/0, the consuming side sees kvs/0), both statuses show the
// offer and the SAAS entry, remove-relation departs and breaks both
// sides, and remove-saas does the same for a second relation.
func TestCrossModelRelation(t *testing.T) {
	t.Parallel() // mostly waiting on agents; see tests/doc.go
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "add-model", "--no-switch", "prov")
	e.mustTroupe(commandTimeout, "add-model", "--no-switch", "cons")
	e.mustTroupe(commandTimeout, "deploy", "--model", "prov", "./testcharms/kvstore", "--config", "ledger-dir="+ledgers)
	e.mustTroupe(commandTimeout, "deploy", "--model", "cons", "./testcharms/kvclient", "--config", "ledger-dir="+ledgers)
	ready := func(app string) func(cmrStatus) bool {
		return func(d cmrStatus) bool { return appsReady(map[string]int{app: 1})(d.statusDoc) }
	}
	waitModel(t, e, "prov", "kvstore/0 active", ready("kvstore"))
	waitModel(t, e, "cons", "kvclient/0 active", ready("kvclient"))

	// offer: jubilant's argv (model.app:ep, never --model).
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"offer", "prov.kvstore:cluster"}, "peer endpoint"},
		{[]string{"offer", "prov.kvstore:nope"}, `no endpoint "nope"`},
		{[]string{"offer", "prov.nosuch:db"}, `"nosuch" not found`},
		{[]string{"offer", "prov.kvstore"}, "name the endpoints"},
		{[]string{"offer", "prov.kvstore:db", "--controller", "other"}, `controller "other" not found`},
	} {
		if r := e.troupe(commandTimeout, bad.args...); r.code == 0 || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("%v: want a failure mentioning %q: %s", bad.args, bad.want, r)
		}
	}
	e.mustTroupe(commandTimeout, "offer", "admin/prov.kvstore:db")
	if r := e.troupe(commandTimeout, "offer", "prov.kvstore:db"); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("a second offer of the same name must fail: %s", r)
	}
	offers := jsonOut(t, e.mustTroupe(commandTimeout, "offers", "--model", "prov", "--format", "json"))
	wantEndpoints := map[string]any{"db": map[string]any{"interface": "kv", "role": "provider"}}
	if o, _ := offers["kvstore"].(map[string]any); o == nil || o["application"] != "kvstore" || o["offer-url"] != "admin/prov.kvstore" ||
		!reflect.DeepEqual(o["endpoints"], wantEndpoints) {
		t.Errorf("offers --format json = %v, want kvstore offering db (kv, provider) at admin/prov.kvstore", offers)
	}
	found := jsonOut(t, e.mustTroupe(commandTimeout, "find-offers", "--format", "json"))
	if o, _ := found["admin/prov.kvstore"].(map[string]any); o == nil || !reflect.DeepEqual(o["endpoints"], wantEndpoints) {
		t.Errorf("find-offers --format json = %v, want admin/prov.kvstore", found)
	}

	// Access: consuming needs write on the consuming model and read on the
	// offering one; offering needs admin; find-offers shows only offers of
	// readable models.
	pw := addUser(t, e, "bob")
	e.mustTroupe(commandTimeout, "grant", "bob", "write", "cons")
	bob := newUserHome(t, e)
	if r := e.troupeAs(bob, pw+"\n", "login", "-u", "bob"); r.code != 0 {
		t.Fatal(r)
	}
	if r := e.troupeAs(bob, "", "find-offers", "--format", "json"); r.code != 0 || strings.TrimSpace(r.stdout) != "{}" {
		t.Errorf("find-offers by a user who cannot read prov: %s", r)
	}
	if r := e.troupeAs(bob, "", "consume", "--model", "cons", "prov.kvstore", "bobs"); r.code == 0 || !strings.Contains(r.stderr, "needs read access") {
		t.Errorf("consume without read access to the offering model: %s", r)
	}
	e.mustTroupe(commandTimeout, "grant", "bob", "read", "prov")
	if r := e.troupeAs(bob, "", "offer", "prov.kvstore:db", "bobs-offer"); r.code == 0 || !strings.Contains(r.stderr, "permission denied") {
		t.Errorf("offer by a reader of the offering model: %s", r)
	}
	if r := e.troupeAs(bob, "", "find-offers", "--format", "json"); r.code != 0 || !strings.Contains(r.stdout, `"admin/prov.kvstore"`) {
		t.Errorf("find-offers by a reader of prov: %s", r)
	}
	if r := e.troupeAs(bob, "", "consume", "--model", "cons", "prov.kvstore", "bobs"); r.code != 0 {
		t.Errorf("consume with write on cons and read on prov: %s", r)
	}

	// consume: jubilant's argv (--model right after the verb).
	if r := e.troupe(commandTimeout, "consume", "--model", "cons", "prov.nosuch"); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("consuming a missing offer must fail: %s", r)
	}
	e.mustTroupe(commandTimeout, "consume", "--model", "cons", "admin/prov.kvstore", "kvs")
	doc := waitModel(t, e, "cons", "SAAS kvs listed", func(d cmrStatus) bool { return d.ApplicationEndpoints["kvs"] != nil })
	kvs := doc.ApplicationEndpoints["kvs"]
	if url, _ := kvs["url"].(string); !strings.HasSuffix(url, ":admin/prov.kvstore") || !reflect.DeepEqual(kvs["endpoints"], wantEndpoints) {
		t.Errorf("application-endpoints.kvs = %v, want url <controller>:admin/prov.kvstore and endpoint db", kvs)
	}

	e.mustTroupe(commandTimeout, "integrate", "--model", "cons", "kvclient", "kvs")
	// Both ways: kvclient/0 sees kvs/0's unit data and kvs's application
	// data; kvstore/0 sees remote-<hex>/0's request.
	waitLedgers(t, e, ledgers, "kvclient/0 saw kvs/0's host and the app endpoint", []string{"kvclient/0"}, func(_ string, _, data []ledgerEntry) bool {
		return hasData(data, "db-relation-changed", "kvs/0", "host=kvstore/0") && hasData(data, "db-relation-changed", "", "endpoint=kv://kvstore")
	})
	var remoteUnit string
	waitLedgers(t, e, ledgers, "kvstore/0 saw the consumer's request", []string{"kvstore/0"}, func(_ string, _, data []ledgerEntry) bool {
		for _, d := range data {
			if d.Hook == "db-relation-changed" && isRemoteUnit(d.Remote) && d.Extra == "want=key-of-kvclient/0" {
				remoteUnit = d.Remote
				return true
			}
		}
		return false
	})
	remoteApp, _, _ := strings.Cut(remoteUnit, "/")
	for _, u := range []struct{ unit, remote string }{{"kvclient/0", "kvs/0"}, {"kvstore/0", remoteUnit}} {
		hooks, _ := readLedger(t, ledgers, u.unit)
		checkJoinedSequence(t, u.unit, "db", hooks, []string{u.remote})
	}
	if hooks, _ := readLedger(t, ledgers, "kvstore/0"); !slices.ContainsFunc(hooks, func(h ledgerEntry) bool {
		return h.Hook == "db-relation-joined" && h.RemoteApp == remoteApp
	}) {
		t.Errorf("kvstore/0: JUJU_REMOTE_APP should be %s in db-relation-joined: %v", remoteApp, hooks)
	}

	prov := waitModel(t, e, "prov", "offer connected", func(d cmrStatus) bool {
		o := d.Offers["kvstore"]
		return o != nil && o["active-connected-count"] == float64(1) && o["total-connected-count"] == float64(1)
	})
	if o := prov.Offers["kvstore"]; o["application"] != "kvstore" || !reflect.DeepEqual(o["endpoints"], wantEndpoints) {
		t.Errorf("prov status offers.kvstore = %v", o)
	}
	if rel := prov.Applications["kvstore"].Relations["db"]; len(rel) != 1 || rel[0].RelatedApplication != remoteApp {
		t.Errorf("prov status: kvstore relations[db] = %+v, want %s", rel, remoteApp)
	}
	cons := waitModel(t, e, "cons", "SAAS related", func(d cmrStatus) bool {
		r, _ := d.ApplicationEndpoints["kvs"]["relations"].(map[string]any)
		return reflect.DeepEqual(r, map[string]any{"db": []any{"kvclient"}})
	})
	if st, _ := cons.ApplicationEndpoints["kvs"]["application-status"].(map[string]any); st == nil || st["current"] != "active" {
		t.Errorf("application-endpoints.kvs.application-status = %v, want kvstore's active", cons.ApplicationEndpoints["kvs"])
	}
	if rel := cons.Applications["kvclient"].Relations["db"]; len(rel) != 1 || rel[0].RelatedApplication != "kvs" || rel[0].Interface != "kv" {
		t.Errorf("cons status: kvclient relations[db] = %+v, want kvs over kv", rel)
	}
	conns := jsonOut(t, e.mustTroupe(commandTimeout, "offers", "-m", "prov", "kvstore", "--format", "json"))
	if c, _ := conns["kvstore"].(map[string]any)["connections"].([]any); len(c) != 1 ||
		c[0].(map[string]any)["source-model"] != "admin/cons" || c[0].(map[string]any)["endpoint"] != "db" {
		t.Errorf("offers connections = %v, want one from admin/cons on db", conns)
	}
	if r := e.troupe(commandTimeout, "remove-offer", "admin/prov.kvstore"); r.code == 0 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("remove-offer of a connected offer without --force must fail: %s", r)
	}

	// remove-relation: both sides depart and break.
	e.mustTroupe(commandTimeout, "remove-relation", "--model", "cons", "kvclient", "kvs")
	broken := func(remote string) func(string, []ledgerEntry, []ledgerEntry) bool {
		return func(_ string, hooks, _ []ledgerEntry) bool {
			return hasHook(hooks, "db-relation-departed", func(r string) bool { return r == remote }) &&
				hasHook(hooks, "db-relation-broken", func(string) bool { return true })
		}
	}
	waitLedgers(t, e, ledgers, "kvclient/0 departed kvs/0 and broke", []string{"kvclient/0"}, broken("kvs/0"))
	waitLedgers(t, e, ledgers, "kvstore/0 departed the consumer and broke", []string{"kvstore/0"}, broken(remoteUnit))
	waitModel(t, e, "cons", "relation gone in cons", func(d cmrStatus) bool {
		_, rel := d.ApplicationEndpoints["kvs"]["relations"]
		return len(d.Applications["kvclient"].Relations) == 0 && !rel
	})
	waitModel(t, e, "prov", "relation gone in prov", func(d cmrStatus) bool {
		o := d.Offers["kvstore"]
		_, active := o["active-connected-count"]
		return o != nil && !active && len(d.Applications["kvstore"].Relations["db"]) == 0
	})

	// Again, by offer URL (consumed under the offer's name, as Juju
	// does), then remove-saas: the relation goes with it on both sides.
	e.mustTroupe(commandTimeout, "integrate", "--model", "cons", "kvclient:db", "prov.kvstore:db")
	waitModel(t, e, "cons", "SAAS kvstore related", func(d cmrStatus) bool {
		r, _ := d.ApplicationEndpoints["kvstore"]["relations"].(map[string]any)
		_, kvsRel := d.ApplicationEndpoints["kvs"]["relations"]
		return reflect.DeepEqual(r, map[string]any{"db": []any{"kvclient"}}) && !kvsRel
	})
	count := func(hooks []ledgerEntry, hook string) int {
		n := 0
		for _, h := range hooks {
			if h.Hook == hook {
				n++
			}
		}
		return n
	}
	twice := func(hook string) func(string, []ledgerEntry, []ledgerEntry) bool {
		return func(_ string, hooks, _ []ledgerEntry) bool { return count(hooks, hook) == 2 }
	}
	waitLedgers(t, e, ledgers, "joined again", []string{"kvclient/0", "kvstore/0"}, twice("db-relation-joined"))
	waitLedgers(t, e, ledgers, "kvclient/0 saw the offered unit as kvstore/0", []string{"kvclient/0"}, func(_ string, _, data []ledgerEntry) bool {
		return hasData(data, "db-relation-changed", "kvstore/0", "host=kvstore/0")
	})
	e.mustTroupe(commandTimeout, "remove-saas", "--model", "cons", "kvstore", "kvs", "bobs")
	waitLedgers(t, e, ledgers, "broken again", []string{"kvclient/0", "kvstore/0"}, twice("db-relation-broken"))
	waitModel(t, e, "cons", "SAAS gone", func(d cmrStatus) bool {
		return d.ApplicationEndpoints == nil && len(d.Applications["kvclient"].Relations) == 0
	})
	waitModel(t, e, "prov", "no connections", func(d cmrStatus) bool {
		_, total := d.Offers["kvstore"]["total-connected-count"]
		return d.Offers["kvstore"] != nil && !total
	})
	e.mustTroupe(commandTimeout, "remove-offer", "admin/prov.kvstore")
	if r := e.mustTroupe(commandTimeout, "offers", "--model", "prov", "--format", "json"); strings.TrimSpace(r.stdout) != "{}" {
		t.Errorf("offers after remove-offer = %q, want {}", r.stdout)
	}
	waitModel(t, e, "prov", "offer gone", func(d cmrStatus) bool { return d.Offers == nil })
	waitModel(t, e, "cons", "kvclient still fine", ready("kvclient"))
}
