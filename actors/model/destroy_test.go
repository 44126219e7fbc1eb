package model_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/actors/model"
	ent "github.com/troupe-dev/troupe/internal/entity"
)

func TestDestroyMarksDyingAndRefusesAdditions(t *testing.T) {
	s, root, pid := guardian(t)
	if _, err := ask[*model.Deployed](t, root, pid, deploy("a", 1)); err != nil {
		t.Fatal(err)
	}
	res, err := ask[*model.Destroying](t, root, pid, &model.Destroy{})
	if err != nil || res.Model.Life != ent.Dying || res.Model.Status.Current != "destroying" {
		t.Fatalf("destroy: %+v %v", res, err)
	}
	var doc ent.Model
	if _, err := s.Get(context.Background(), ent.ModelKey(uuid), &doc); err != nil || doc.Life != ent.Dying {
		t.Fatalf("persisted model: %+v %v", doc, err)
	}
	if _, err := ask[*model.Destroying](t, root, pid, &model.Destroy{}); err != nil {
		t.Fatalf("second destroy is not idempotent: %v", err)
	}
	for _, msg := range []any{deploy("b", 1), &model.AddUnits{App: "a", NumUnits: 1}, &model.AddMachines{N: 1}} {
		if _, err := ask[any](t, root, pid, msg); err == nil || !strings.Contains(err.Error(), "is being destroyed") {
			t.Errorf("%T on a dying model: err %v", msg, err)
		}
	}
}

func TestSSHKeysAndConstraints(t *testing.T) {
	s, root, pid := guardian(t)
	k1 := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp1YmlsYW50LXRlc3Qta2V5LWZvci10cm91cGUtMDEy one@host"
	k2 := "ssh-rsa AAAAB3NzaC1yc2E= two@host"
	res, err := ask[*model.SSHKeysUpdated](t, root, pid, &model.UpdateSSHKeys{Add: []string{k1, k2, k1}})
	if err != nil || !slices.Equal(res.Keys, []string{k1, k2}) {
		t.Fatalf("add: %+v %v", res, err)
	}
	if _, err := ask[*model.SSHKeysUpdated](t, root, pid, &model.UpdateSSHKeys{Add: []string{"ssh-rsa !!!"}}); err == nil {
		t.Error("a key whose data is not base64 was accepted")
	}
	if _, err := ask[*model.SSHKeysUpdated](t, root, pid, &model.UpdateSSHKeys{Remove: []string{"nobody"}}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("removing an absent key: %v", err)
	}
	res, err = ask[*model.SSHKeysUpdated](t, root, pid, &model.UpdateSSHKeys{Remove: []string{"two@host", k1}})
	if err != nil || len(res.Keys) != 0 {
		t.Fatalf("remove by comment and full line: %+v %v", res, err)
	}
	if _, err := ask[*model.ConstraintsSet](t, root, pid, &model.SetConstraints{Values: map[string]any{"mem": 1024}}); err != nil {
		t.Fatal(err)
	}
	var doc ent.Model
	if _, err := s.Get(context.Background(), ent.ModelKey(uuid), &doc); err != nil || doc.Constraints["mem"] != float64(1024) || doc.SSHKeys != nil {
		t.Fatalf("persisted model: %+v %v", doc, err)
	}
}

// fingerprint computes the key's fingerprint independently of the code
// under test, with ssh-keygen when the host has it.
func fingerprint(t *testing.T, key string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "k.pub")
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh-keygen", "-l", "-E", "sha256", "-f", path).Output()
	if err != nil {
		t.Fatalf("ssh-keygen is needed to check fingerprints independently: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		t.Fatalf("ssh-keygen output %q", out)
	}
	return f[1]
}

func TestSSHKeyMatchesFingerprint(t *testing.T) {
	// ssh-keygen -l prints SHA256:<unpadded base64 of sha256(key blob)>.
	k := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp1YmlsYW50LXRlc3Qta2V5LWZvci10cm91cGUtMDEy one@host"
	if !model.SSHKeyMatches(k, fingerprint(t, k)) {
		t.Fatal("fingerprint does not match")
	}
	if model.SSHKeyMatches(k, "SHA256:AAAA") || model.SSHKeyMatches(k, "one") {
		t.Fatal("matched a wrong fingerprint or a partial comment")
	}
}
