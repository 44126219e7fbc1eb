package tests

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecrets shares an application-owned secret over a relation
// (testcharms/vault → testcharms/vaultclient): the provider leader creates
// and grants it in a relation hook and publishes the URI in its app
// databag; each requirer unit reads it; a new password (config) is a new
// revision, which fires secret-changed once per requirer unit with
// JUJU_SECRET_ID set, where secret-get --refresh reads the new content;
// once no unit tracks revision 1 the owner's leader runs secret-remove for
// it, and secret-expired for a secret created with --expire. Then a user
// secret: add-secret, grant-secret, a config option of
// type secret, update-secret, and the JSON shapes of secrets/show-secret.
func TestSecrets(t *testing.T) {
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/vault", "--config", "ledger-dir="+ledgers)
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/vaultclient", "-n", "2", "--config", "ledger-dir="+ledgers)
	e.mustTroupe(commandTimeout, "integrate", "vault", "vaultclient")
	clients := unitsOf("vaultclient", 0, 1)

	// An app-owned secret shared over the relation, read by each unit.
	var uri string
	waitLedgers(t, e, ledgers, "the vault leader granted its secret", []string{"vault/0"}, func(_ string, _, data []ledgerEntry) bool {
		for _, d := range data {
			if d.Hook == "creds-relation-joined" && strings.HasPrefix(d.Extra, "granted=secret:") {
				uri = strings.TrimPrefix(d.Extra, "granted=")
				return true
			}
		}
		return false
	})
	if !regexp.MustCompile(`^secret:[0-9a-v]{20}$`).MatchString(uri) {
		t.Fatalf("secret-add printed %q, want secret:<20-char id>", uri)
	}
	waitLedgers(t, e, ledgers, "each client read revision 1", clients, func(_ string, _, data []ledgerEntry) bool {
		return hasData(data, "creds-relation-changed", "", "password=pw-1")
	})
	// A second, non-leader owner unit: application-owned secret hooks
	// (secret-remove) are the leader's only.
	e.mustTroupe(commandTimeout, "add-unit", "vault")
	waitLedgers(t, e, ledgers, "vault/1 started", []string{"vault/1"}, func(_ string, hooks, _ []ledgerEntry) bool {
		return slices.ContainsFunc(hooks, func(h ledgerEntry) bool { return h.Hook == "start" })
	})

	// A new revision: secret-changed on each consumer, once.
	e.mustTroupe(commandTimeout, "config", "vault", "password=pw-2")
	want := "changed=" + uri + " label= peek=pw-2 before=pw-1 after=pw-2 again=pw-2"
	waitLedgers(t, e, ledgers, "each client ran secret-changed and refreshed", clients, func(_ string, _, data []ledgerEntry) bool {
		return hasData(data, "secret-changed", "", want)
	})
	// Revision 1 is tracked by nobody now: the owner's leader is told.
	waitLedgers(t, e, ledgers, "the vault leader ran secret-remove for revision 1", []string{"vault/0"}, func(_ string, _, data []ledgerEntry) bool {
		return hasData(data, "secret-remove", "", "remove="+uri+"/1")
	})

	// A secret created with --expire 3s: secret-expired on the leader,
	// which removes it.
	waitLedgers(t, e, ledgers, "the vault leader ran secret-expired for its short-lived secret", []string{"vault/0"}, func(_ string, _, data []ledgerEntry) bool {
		short := ""
		for _, d := range data {
			if strings.HasPrefix(d.Extra, "short=") {
				short = strings.TrimPrefix(d.Extra, "short=")
			}
		}
		return short != "" && hasData(data, "secret-expired", "", "expired="+short+"/1 label=short")
	})

	// The app-owned secret as the user sees it: owner vault, revision 2,
	// revision 1 removed by the charm, access over the relation.
	id := strings.TrimPrefix(uri, "secret:")
	var shown map[string]struct {
		Revision  int    `json:"revision"`
		Owner     string `json:"owner"`
		Label     string `json:"label"`
		Revisions []struct {
			Revision int `json:"revision"`
		} `json:"revisions"`
		Access []map[string]string `json:"access"`
	}
	waitUntil(t, "revision 1 removed from the app-owned secret", func() (bool, string) {
		r := e.mustTroupe(commandTimeout, "show-secret", id, "--revisions", "--format", "json")
		shown = nil
		if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
			t.Fatalf("show-secret: %v\n%s", err, r)
		}
		s := shown[id]
		return len(s.Revisions) == 1 && s.Revisions[0].Revision == 2, r.stdout
	})
	if s := shown[id]; s.Revision != 2 || s.Owner != "vault" || s.Label != "creds" || len(s.Access) != 1 ||
		s.Access[0]["target"] != "application-vaultclient" || !strings.HasPrefix(s.Access[0]["scope"], "relation-") || s.Access[0]["role"] != "view" {
		t.Errorf("show-secret %s = %+v, want revision 2, owner vault, label creds, view access for vaultclient over the relation", id, s)
	}

	// The owner's metadata and a consumer's read, through exec in each
	// unit's hook context.
	r := e.mustTroupe(commandTimeout, "exec", "--unit", "vault/0", "--format", "json", "--", "secret-info-get", uri, "--format", "json")
	_, x := runJSON(t, r)
	var info map[string]map[string]any
	if err := json.Unmarshal([]byte(x.Results["stdout"].(string)), &info); err != nil {
		t.Fatalf("secret-info-get: %v\n%s", err, r)
	}
	if i := info[id]; i == nil || i["revision"] != float64(2) || i["label"] != "creds" || i["owner"] != "application" || i["description"] != "shared password" {
		t.Errorf("secret-info-get %s = %v, want {%s: {revision 2, label creds, owner application, description ...}}", uri, info, id)
	}
	r = e.mustTroupe(commandTimeout, "exec", "--unit", "vaultclient/1", "--format", "json", "--", "secret-get", uri, "password")
	if _, x := runJSON(t, r); x.Results["stdout"] != "pw-2\n" {
		t.Errorf("vaultclient/1 secret-get %s password = %+v, want pw-2", uri, x.Results)
	}

	// A user secret, granted to vaultclient and named by its config.
	add := e.mustTroupe(commandTimeout, "add-secret", "apitoken", "value=tok-1", "--info", "the API token")
	userURI := strings.TrimSpace(add.stdout)
	if !regexp.MustCompile(`^secret:[0-9a-v]{20}$`).MatchString(userURI) {
		t.Fatalf("add-secret printed %q, want secret:<id>", add.stdout)
	}
	if r := e.troupe(commandTimeout, "add-secret", "apitoken", "value=x"); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("a second add-secret with the same name must fail: %s", r)
	}
	if r := e.troupe(commandTimeout, "grant-secret", "apitoken", "nosuch"); r.code == 0 || !strings.HasPrefix(r.stderr, "ERROR ") {
		t.Errorf("grant-secret to an unknown application must fail with ERROR: %s", r)
	}
	e.mustTroupe(commandTimeout, "grant-secret", "apitoken", "vaultclient")
	e.mustTroupe(commandTimeout, "config", "vaultclient", "token="+userURI)
	waitLedgers(t, e, ledgers, "each client read the user secret named by its config", clients, func(_ string, _, data []ledgerEntry) bool {
		return hasData(data, "config-changed", "", "token=tok-1")
	})
	file := filepath.Join(t.TempDir(), "token.yaml")
	if err := os.WriteFile(file, []byte("value: tok-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustTroupe(commandTimeout, "update-secret", "apitoken", "--info", "rotated", "--file", file)
	userID := strings.TrimPrefix(userURI, "secret:")
	waitLedgers(t, e, ledgers, "each client ran secret-changed for the user secret", clients, func(u string, _, data []ledgerEntry) bool {
		if u == "vaultclient/1" { // it keeps tracking revision 1
			return hasData(data, "secret-changed", "", "changed="+userURI+" label= peek=tok-2 before=tok-1 no-refresh")
		}
		return hasData(data, "secret-changed", "", "changed="+userURI+" label= peek=tok-2 before=tok-1 after=tok-2 again=tok-2")
	})
	// vaultclient/1 did not refresh: it still reads revision 1, and was
	// told of revision 2 durably: its machine agent is killed and
	// restarts, a config change runs a hook after the restarted uniter's
	// first decisions, and secret-changed does not run again.
	r = e.mustTroupe(commandTimeout, "exec", "--unit", "vaultclient/1", "--format", "json", "--", "secret-get", userURI, "value")
	if _, x := runJSON(t, r); x.Results["stdout"] != "tok-1\n" {
		t.Errorf("vaultclient/1 secret-get (no refresh) = %+v, want its tracked tok-1", x.Results)
	}
	killMachineAgentOf(t, e, "vaultclient/1")
	e.mustTroupe(commandTimeout, "config", "vaultclient", "flavour=after-restart")
	waitLedgers(t, e, ledgers, "each client ran config-changed after the restart", clients, func(_ string, _, data []ledgerEntry) bool {
		return hasData(data, "config-changed", "", "flavour=after-restart")
	})

	// Every client ran secret-changed exactly once per new revision, and
	// only the vault leader ran secret-remove, once.
	for _, u := range append(clients, "vault/0", "vault/1") {
		hooks, _ := readLedger(t, ledgers, u)
		n := map[string]int{}
		for _, h := range hooks {
			n[h.Hook]++
		}
		if u == "vault/1" && n["secret-remove"] != 0 {
			t.Errorf("vault/1 (not the leader) ran secret-remove: %v", hooks)
		}
		if strings.HasPrefix(u, "vaultclient/") && n["secret-changed"] != 2 {
			t.Errorf("%s ran secret-changed %d times, want twice (one per secret): %v", u, n["secret-changed"], hooks)
		}
		if u == "vault/0" && (n["secret-remove"] != 1 || n["secret-expired"] != 1 || n["secret-changed"] != 0) {
			t.Errorf("vault/0 ran secret-remove %d times (want 1), secret-expired %d (want 1) and secret-changed %d (want 0): %v",
				n["secret-remove"], n["secret-expired"], n["secret-changed"], hooks)
		}
		if u == "vault/1" && n["secret-expired"] != 0 {
			t.Errorf("vault/1 (not the leader) ran secret-expired: %v", hooks)
		}
	}

	// Shapes (cli contract §5.6).
	var list map[string]map[string]any
	r = e.mustTroupe(commandTimeout, "secrets", "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("secrets --format json: %v\n%s", err, r)
	}
	if len(list) != 2 || list[id] == nil || list[userID] == nil {
		t.Fatalf("secrets lists %v, want exactly %s and %s", r.stdout, id, userID)
	}
	u := list[userID]
	if u["owner"] != "<model>" || u["name"] != "apitoken" || u["description"] != "rotated" || u["revision"] != float64(2) {
		t.Errorf("user secret in secrets = %v, want owner <model>, name apitoken, description rotated, revision 2", u)
	}
	tsRE := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	for _, k := range []string{"created", "updated"} {
		if s, _ := u[k].(string); !tsRE.MatchString(s) {
			t.Errorf("%s = %v, want an RFC 3339 UTC timestamp in whole seconds", k, u[k])
		}
	}
	if _, ok := u["content"]; ok {
		t.Errorf("secrets without --reveal must not show content: %v", u)
	}
	if r := e.mustTroupe(commandTimeout, "secrets", "--owner", "vault", "--format", "json"); !strings.Contains(r.stdout, id) || strings.Contains(r.stdout, userID) {
		t.Errorf("secrets --owner vault = %s, want only %s", r.stdout, id)
	}
	for _, ref := range []string{"apitoken", userURI, userID} {
		var one map[string]struct {
			Content struct {
				Data map[string]string `json:"Data"`
			} `json:"content"`
			Revision int `json:"revision"`
		}
		r := e.mustTroupe(commandTimeout, "show-secret", ref, "--reveal", "--revision", "1", "--format", "json")
		if err := json.Unmarshal([]byte(r.stdout), &one); err != nil {
			t.Fatalf("show-secret: %v\n%s", err, r)
		}
		if len(one) != 1 || one[userID].Content.Data["value"] != "tok-1" || one[userID].Revision != 2 {
			t.Errorf("show-secret %s --reveal --revision 1 = %s, want {%s: {revision 2, content {Data {value: tok-1}}}}", ref, r.stdout, userID)
		}
	}
	r = e.mustTroupe(commandTimeout, "show-secret", "apitoken", "--reveal", "--format", "json")
	if !strings.Contains(r.stdout, `"content":{"Data":{"value":"tok-2"}}`) {
		t.Errorf("show-secret --reveal = %s, want the latest content under content.Data", r.stdout)
	}

	// Removing revisions, then the secret.
	e.mustTroupe(commandTimeout, "remove-secret", "apitoken", "--revision", "1")
	if r := e.troupe(commandTimeout, "show-secret", "apitoken", "--reveal", "--revision", "1", "--format", "json"); r.code == 0 {
		t.Errorf("revision 1 was removed; show-secret --revision 1 must fail: %s", r)
	}
	e.mustTroupe(commandTimeout, "remove-secret", "apitoken")
	if r := e.troupe(commandTimeout, "show-secret", "apitoken", "--format", "json"); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("show-secret of a removed secret must fail with not found: %s", r)
	}

	// Removing the relation takes the grant with it.
	e.mustTroupe(commandTimeout, "remove-relation", "vault", "vaultclient")
	waitUntil(t, "the grant over the removed relation is gone", func() (bool, string) {
		r := e.troupe(commandTimeout, "exec", "--unit", "vaultclient/0", "--format", "json", "--", "secret-get", uri, "password")
		_, x := runJSON(t, r)
		stderr, _ := x.Results["stderr"].(string)
		return x.Results["return-code"] == float64(1) && strings.Contains(stderr, "not found"), r.stdout
	})
	r = e.mustTroupe(commandTimeout, "show-secret", id, "--format", "json")
	if strings.Contains(r.stdout, `"access"`) {
		t.Errorf("show-secret after remove-relation still lists access: %s", r.stdout)
	}

	// Content is sealed at rest: no plaintext in the store's files.
	storeDir := filepath.Join(e.home, "controller", "store")
	filepath.Walk(storeDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, plain := range []string{"tok-1", "tok-2"} { // (the vault password is also plain charm config)
			// Quoted as in a JSON document, or base64 as []byte content
			// would be (the charms echo the value itself elsewhere).
			for _, form := range []string{`"` + plain + `"`, base64.StdEncoding.EncodeToString([]byte(plain))} {
				if strings.Contains(string(data), form) {
					t.Errorf("store file %s holds secret content %q in plaintext (%s)", path, plain, form)
				}
			}
		}
		return nil
	})
	// Never logged: no log file of the controller or the agents holds
	// the content as the API carried it (the charms' own echoes of it,
	// "token=tok-1", are their business).
	for _, p := range append(findFilesSuffix(t, e.home, ".log"), findFilesSuffix(t, e.home, ".jsonl")...) {
		data := readFile(t, p)
		for _, form := range []string{"value=tok-", `"value":"tok-`, `"value": "tok-`, "dG9rLT"} {
			if strings.Contains(data, form) {
				t.Errorf("log %s holds secret content (%q)", p, form)
			}
		}
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}

// waitUntil polls cond (every half second, up to relationsTimeout); cond
// returns whether it holds and what to report when it never does.
func waitUntil(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(relationsTimeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after %v; last: %s", what, relationsTimeout, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// killMachineAgentOf SIGKILLs the machine agent hosting unit and waits
// until the local provider's supervision has started a new one.
func killMachineAgentOf(t *testing.T, e *env, unit string) {
	t.Helper()
	doc, _, err := e.status()
	if err != nil {
		t.Fatal(err)
	}
	app, _, _ := strings.Cut(unit, "/")
	dirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*-machine-"+doc.Applications[app].Units[unit].Machine))
	if len(dirs) != 1 {
		t.Fatalf("machine dir of %s: %v", unit, dirs)
	}
	pidOf := func() int { return agentPID(dirs[0]) }
	old := pidOf()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatalf("cannot kill the machine agent of %s (pid %d): %v", unit, old, err)
	}
	waitUntil(t, "the machine agent of "+unit+" restarted", func() (bool, string) {
		pid := pidOf()
		return pid != old && pid != 0 && syscall.Kill(pid, 0) == nil, strconv.Itoa(pid)
	})
}

// findFilesSuffix lists the files under root whose names end in suffix.
func findFilesSuffix(t *testing.T, root, suffix string) []string {
	t.Helper()
	var found []string
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(path, suffix) {
			found = append(found, path)
		}
		return nil
	})
	return found
}
