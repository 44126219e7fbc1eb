package tests

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestGoalStateAndCredentialGet (issue 5): goal-state, run in a unit's
// context, lists the application's units and, per endpoint, the related
// application and its units with Juju's statuses; credential-get is
// refused until the application is trusted, then returns the cloud spec.
func TestGoalStateAndCredentialGet(t *testing.T) {
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/kvstore", "-n", "2", "--config", "ledger-dir="+ledgers)
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/kvclient", "--config", "ledger-dir="+ledgers)
	e.mustTroupe(commandTimeout, "integrate", "kvstore", "kvclient")
	waitFor(t, e, readyTimeout, "all active", appsReady(map[string]int{"kvstore": 2, "kvclient": 1}))

	type entry struct {
		Status string `json:"status"`
		Since  string `json:"since"`
	}
	var gs struct {
		Units     map[string]entry            `json:"units"`
		Relations map[string]map[string]entry `json:"relations"`
	}
	// Scope entry can trail "active" by a hook: poll until joined.
	var last result
	for i := 0; i < 30; i++ {
		last = e.troupe(commandTimeout, "exec", "--unit", "kvstore/0", "--format", "json", "--", "goal-state --format=json")
		_, x := runJSON(t, last)
		out, _ := x.Results["stdout"].(string)
		if err := json.Unmarshal([]byte(out), &gs); err != nil {
			t.Fatalf("goal-state output is not JSON: %v\n%s", err, last)
		}
		if gs.Relations["db"]["kvclient/0"].Status == "joined" && gs.Relations["cluster"]["kvstore/1"].Status == "joined" {
			break
		}
		e.mustTroupe(commandTimeout, "status") // a pause that also exercises the controller
	}
	if len(gs.Units) != 2 || gs.Units["kvstore/0"].Status != "active" || gs.Units["kvstore/1"].Status != "active" {
		t.Errorf("goal-state units: %+v\n%s", gs.Units, last)
	}
	if gs.Units["kvstore/0"].Since == "" {
		t.Errorf("goal-state units must carry since: %+v", gs.Units)
	}
	if db := gs.Relations["db"]; db["kvclient"].Status != "joined" || db["kvclient/0"].Status != "joined" || len(db) != 2 {
		t.Errorf("goal-state relations.db: %+v\n%s", db, last)
	}
	if c := gs.Relations["cluster"]; len(c) != 1 || c["kvstore/1"].Status != "joined" {
		t.Errorf("goal-state relations.cluster (the peer, self left out): %+v\n%s", c, last)
	}

	// credential-get: refused while untrusted, with Juju's hint.
	r := e.troupe(commandTimeout, "exec", "--unit", "kvclient/0", "--format", "json", "--", "credential-get --format=json")
	_, x := runJSON(t, r)
	if x.Results["return-code"] != float64(1) || !strings.Contains(x.Results["stderr"].(string), "not trusted") {
		t.Errorf("credential-get untrusted: want exit 1 and \"not trusted\": %+v", x)
	}
	e.mustTroupe(commandTimeout, "trust", "kvclient")
	r = e.troupe(commandTimeout, "exec", "--unit", "kvclient/0", "--format", "json", "--", "credential-get --format=json")
	_, x = runJSON(t, r)
	var spec map[string]any
	if err := json.Unmarshal([]byte(x.Results["stdout"].(string)), &spec); err != nil {
		t.Fatalf("credential-get output is not JSON: %v: %+v", err, x)
	}
	cred, _ := spec["credential"].(map[string]any)
	if spec["name"] != "localhost" || spec["type"] == "" || cred["auth-type"] != "empty" || spec["is-controller-cloud"] != true {
		t.Errorf("credential-get spec: %+v", spec)
	}
	for _, k := range []string{"type", "name", "region", "endpoint", "identity-endpoint", "storage-endpoint", "credential", "cacertificates", "skip-tls-verify", "is-controller-cloud"} {
		if _, ok := spec[k]; !ok {
			t.Errorf("credential-get spec lacks %q: %+v", k, spec)
		}
	}
}
