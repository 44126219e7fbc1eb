package tests

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// packCharmcraftOnly writes a .charm archive like one charmcraft packs
// from a unified charmcraft.yaml: no metadata.yaml, the metadata keys in
// charmcraft.yaml, a manifest.yaml naming ubuntu@24.04, and the hooks of
// testcharms/resourcer.
func packCharmcraftOnly(t *testing.T, root, out string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z := zip.NewWriter(f)
	add := func(name, body string, mode os.FileMode) {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		w, err := z.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	add("charmcraft.yaml", `name: packed
type: charm
summary: A charm packed from a unified charmcraft.yaml.
description: Only charmcraft.yaml and manifest.yaml carry its metadata.
base: ubuntu@24.04
platforms:
  amd64:
resources:
  payload:
    type: file
    filename: payload.txt
`, 0o644)
	add("manifest.yaml", "analysis:\n  attributes: []\ncharmcraft-version: 3.2.0\nbases:\n- name: ubuntu\n  channel: '24.04'\n  architectures: [amd64]\n", 0o644)
	hook := readFile(t, filepath.Join(root, "testcharms", "resourcer", "hooks", "start"))
	add("hooks/start", hook, 0o755)
	add("hooks/config-changed", hook, 0o755)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCLICompatModelsAndResources covers the model commands (add-model
// --no-switch, switch, show-model, destroy-model and its refusals), a
// charmcraft-only .charm archive deployed with --resource, --num-units,
// --base, --constraints and --trust, resource-get in hooks, remove-machine,
// and the exit codes and stderr of rejected argv.
func TestCLICompatModelsAndResources(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	current := func() string {
		var doc struct {
			Current string `json:"current-model"`
		}
		if err := json.Unmarshal([]byte(e.mustTroupe(commandTimeout, "models", "--format", "json").stdout), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Current
	}
	e.mustTroupe(commandTimeout, "add-model", "--no-switch", "m1")
	if c := current(); c != "default" {
		t.Fatalf("add-model --no-switch changed the current model to %q", c)
	}
	e.mustTroupe(commandTimeout, "switch", "local:admin/m1")
	if c := current(); c != "m1" {
		t.Fatalf("switch: current model %q, want m1", c)
	}
	e.mustTroupe(commandTimeout, "switch", "default")

	// Rejected argv: exit code and the phrase on stderr; nothing on stdout.
	for _, tc := range []struct {
		args   []string
		code   int
		phrase string
	}{
		{[]string{"destroy-model", "m1"}, 2, "--no-prompt"},
		{[]string{"destroy-model", "m1", "--no-prompt", "--timeout", "1m"}, 2, "only be used with --force"},
		{[]string{"status", "-m", "elsewhere:m1"}, 1, `controller "elsewhere" not found`},
		{[]string{"status", "--model", "bob/m1"}, 1, "owned by admin"},
		{[]string{"show-model", "--format", "json", "nosuch"}, 1, `model "nosuch" not found`},
		{[]string{"deploy", "-m", "m1", "postgresql"}, 1, "Charmhub is not supported"},
		{[]string{"deploy", "-m", "m1", "./testcharms/hello", "--constraints", "colour=red"}, 2, `unknown constraint "colour"`},
		{[]string{"deploy", "-m", "m1", "./testcharms/hello", "--base", "jammy"}, 2, "invalid --base"},
		{[]string{"deploy", "-m", "m1", "./testcharms/hello", "--resource", "payload"}, 2, "expected name=path"},
		{[]string{"trust", "-m", "m1", "nosuch"}, 1, "nosuch"},
		{[]string{"set-model-constraints", "-m", "m1", "mem=lots"}, 2, `bad "mem" constraint`},
		{[]string{"add-ssh-key", "-m", "m1", "not-a-key"}, 1, "invalid ssh key"},
		{[]string{"remove-ssh-key", "-m", "m1", "nobody@nowhere"}, 1, "not found"},
		{[]string{"remove-machine", "-m", "m1", "7"}, 1, `machine "7" not found`},
	} {
		r := e.troupe(commandTimeout, tc.args...)
		if r.err != nil || r.code != tc.code || !strings.Contains(r.stderr, tc.phrase) || !strings.HasPrefix(r.stderr, "ERROR ") || r.stdout != "" {
			t.Errorf("want exit %d and %q on stderr, got %s", tc.code, tc.phrase, r)
		}
	}

	// A charmcraft-only archive with a file resource, two units.
	archive := filepath.Join(t.TempDir(), "packed.charm")
	packCharmcraftOnly(t, e.root, archive)
	payload := filepath.Join(t.TempDir(), "payload.txt")
	if err := os.WriteFile(payload, []byte("forty-two\nsecond line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustTroupe(commandTimeout, "deploy", "--model", "admin/m1", archive, "--base", "ubuntu@24.04",
		"--constraints", "mem=1G", "--constraints", "cores=2", "--num-units", "2", "--resource", "payload="+payload, "--trust")
	var st struct {
		Applications map[string]struct {
			Base  struct{ Name, Channel string } `json:"base"`
			Units map[string]unitStatus          `json:"units"`
		} `json:"applications"`
		Machines map[string]any `json:"machines"`
	}
	readStatus := func() {
		t.Helper()
		// A fresh document each time: decoding into the old one would
		// keep map keys (a removed machine) the new status no longer has.
		st = struct {
			Applications map[string]struct {
				Base  struct{ Name, Channel string } `json:"base"`
				Units map[string]unitStatus          `json:"units"`
			} `json:"applications"`
			Machines map[string]any `json:"machines"`
		}{}
		if err := json.Unmarshal([]byte(e.mustTroupe(commandTimeout, "status", "-m", "m1", "--format", "json").stdout), &st); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		readStatus()
		ready := len(st.Applications["packed"].Units) == 2
		for _, u := range st.Applications["packed"].Units {
			ready = ready && u.WorkloadStatus.Message == "payload: forty-two" && u.JujuStatus.Current == "idle"
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("units never reported the resource: %+v", st.Applications["packed"])
		}
		time.Sleep(time.Second)
	}
	if b := st.Applications["packed"].Base; b.Name != "ubuntu" || b.Channel != "24.04" {
		t.Errorf("base in status: %+v, want ubuntu 24.04", b)
	}
	var cfg struct {
		AppConfig map[string]struct {
			Value any `json:"value"`
		} `json:"application-config"`
	}
	if err := json.Unmarshal([]byte(e.mustTroupe(commandTimeout, "config", "-m", "m1", "packed", "--format", "json").stdout), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.AppConfig["trust"].Value != true {
		t.Errorf("deploy --trust: application-config.trust = %v", cfg.AppConfig["trust"].Value)
	}

	// refresh --resource: the new payload reaches the hooks.
	if err := os.WriteFile(payload, []byte("forty-three\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustTroupe(commandTimeout, "refresh", "-m", "m1", "packed", "--path", archive, "--resource", "payload="+payload)
	deadline = time.Now().Add(2 * time.Minute)
	for {
		readStatus()
		ready := len(st.Applications["packed"].Units) == 2
		for _, u := range st.Applications["packed"].Units {
			ready = ready && u.WorkloadStatus.Message == "payload: forty-three"
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("units never saw the refreshed resource: %+v", st.Applications["packed"])
		}
		time.Sleep(time.Second)
	}

	// ssh keys round-trip; the fingerprint and the comment also identify a key.
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp1YmlsYW50LXRlc3Qta2V5LWZvci10cm91cGUtMDEy tester@example"
	e.mustTroupe(commandTimeout, "add-ssh-key", "-m", "m1", key)
	e.mustTroupe(commandTimeout, "add-ssh-key", "-m", "m1", key) // idempotent
	if got := strings.TrimSpace(e.mustTroupe(commandTimeout, "ssh-keys", "-m", "m1").stdout); got != key {
		t.Errorf("ssh-keys after add: %q", got)
	}
	e.mustTroupe(commandTimeout, "remove-ssh-key", "-m", "m1", "tester@example")
	if got := strings.TrimSpace(e.mustTroupe(commandTimeout, "ssh-keys", "-m", "m1").stdout); got != "" {
		t.Errorf("ssh-keys after remove: %q", got)
	}

	// remove-machine: refused while units are on it, then a spare one goes.
	unitMachine := st.Applications["packed"].Units["packed/0"].Machine
	if r := e.troupe(commandTimeout, "remove-machine", "-m", "m1", unitMachine); r.code == 0 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("remove-machine of a machine with units: %s", r)
	}
	added := strings.TrimSpace(strings.TrimPrefix(e.mustTroupe(commandTimeout, "add-machine", "-m", "m1").stderr, "created machine "))
	e.mustTroupe(commandTimeout, "remove-machine", "-m", "m1", added)
	deadline = time.Now().Add(2 * time.Minute)
	for {
		readStatus()
		if _, ok := st.Machines[added]; !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("machine %s still in status after remove-machine", added)
		}
		time.Sleep(time.Second)
	}

	// destroy-model: the model, its units' agents and machines go.
	e.mustTroupe(5*time.Minute, "destroy-model", "local:admin/m1", "--no-prompt", "--destroy-storage")
	if r := e.troupe(commandTimeout, "show-model", "m1"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("show-model after destroy-model: %s", r)
	}
	if r := e.troupe(commandTimeout, "deploy", "-m", "m1", "./testcharms/hello"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("deploy into a destroyed model: %s", r)
	}
	if left := waitNoProcesses(filepath.Join(e.home, "machines"), 30*time.Second); len(left) > 0 {
		t.Errorf("machine agents left after destroy-model: %v", left)
	}
	// The name is free again.
	e.mustTroupe(commandTimeout, "add-model", "--no-switch", "m1")
}

// TestDestroyModelForceWithUnitInError destroys a model whose unit's
// install hook keeps failing: with --force the command returns once the
// model is gone, within its --timeout.
func TestDestroyModelForceWithUnitInError(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "add-model", "--no-switch", "broken")
	e.mustTroupe(commandTimeout, "deploy", "-m", "broken", "./testcharms/flaky")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var st statusDoc
		if err := json.Unmarshal([]byte(e.mustTroupe(commandTimeout, "status", "-m", "broken", "--format", "json").stdout), &st); err != nil {
			t.Fatal(err)
		}
		if u, ok := st.Applications["flaky"].Units["flaky/0"]; ok && u.WorkloadStatus.Current == "error" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("flaky/0 never went into error: %+v", st.Applications)
		}
		time.Sleep(time.Second)
	}
	r := e.mustTroupe(3*time.Minute, "destroy-model", "broken", "--no-prompt", "--destroy-storage", "--force", "--timeout", "2m")
	if !strings.Contains(r.stderr, `Model "broken" destroyed.`) {
		t.Errorf("destroy-model --force: %s", r)
	}
	if r := e.troupe(commandTimeout, "show-model", "broken"); r.code != 1 {
		t.Errorf("show-model after forced destroy: %s", r)
	}
}
