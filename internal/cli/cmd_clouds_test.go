package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func troupeIn(t *testing.T, home string, args ...string) (string, string, int) {
	t.Helper()
	t.Setenv("TROUPE_HOME", home)
	var out, errb bytes.Buffer
	code := Main(append([]string{"troupe"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// TestCloudsAndCredentials follows jubilant's cloud tests: add-cloud
// --client --file, show-cloud shows the region endpoint, update-cloud -f,
// remove-cloud, add-credential and `credentials --format json` in Juju's
// shape, with secret attributes hidden unless --show-secrets.
func TestCloudsAndCredentials(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clouds := write("clouds.yaml", "clouds:\n  mycloud:\n    type: openstack\n    auth-types: [userpass]\n    regions:\n      r1:\n        endpoint: https://keystone.example:5000/v3\n")
	if _, e, code := troupeIn(t, home, "add-cloud", "mycloud", "--file", clouds); code != 2 || !strings.Contains(e, "--client") {
		t.Errorf("add-cloud without --client/--controller: code %d, %q", code, e)
	}
	if _, e, code := troupeIn(t, home, "add-cloud", "mycloud", "--client", "--file", clouds); code != 0 {
		t.Fatalf("add-cloud: %d %s", code, e)
	}
	if _, e, code := troupeIn(t, home, "add-cloud", "mycloud", "--client", "--file", clouds); code == 0 || !strings.Contains(e, "already exists") {
		t.Errorf("second add-cloud: %d %q", code, e)
	}
	if out, e, code := troupeIn(t, home, "show-cloud", "--client", "mycloud"); code != 0 || !strings.Contains(out, "https://keystone.example:5000/v3") {
		t.Errorf("show-cloud: %d %q %q", code, out, e)
	}
	updated := write("clouds2.yaml", "clouds:\n  mycloud:\n    type: openstack\n    regions:\n      r2:\n        endpoint: https://other.example/v3\n")
	if _, e, code := troupeIn(t, home, "update-cloud", "mycloud", "--client", "-f", updated); code != 0 {
		t.Fatalf("update-cloud: %d %s", code, e)
	}
	if out, _, _ := troupeIn(t, home, "show-cloud", "--client", "mycloud"); !strings.Contains(out, "other.example") {
		t.Errorf("show-cloud after update: %q", out)
	}
	if _, e, code := troupeIn(t, home, "add-cloud", "nosuch", "--client", "--file", clouds); code == 0 || !strings.Contains(e, `"nosuch" not found`) {
		t.Errorf("cloud missing from its file: %d %q", code, e)
	}

	creds := write("creds.yaml", "credentials:\n  mycloud:\n    admin:\n      auth-type: userpass\n      username: bob\n      password: hunter2\n")
	if _, e, code := troupeIn(t, home, "add-credential", "mycloud", "--client", "--file", creds); code != 0 {
		t.Fatalf("add-credential: %d %s", code, e)
	}
	out, e, code := troupeIn(t, home, "credentials", "--format", "json")
	if code != 0 {
		t.Fatalf("credentials: %d %s", code, e)
	}
	var doc struct {
		ClientCredentials map[string]struct {
			CloudCredentials map[string]struct {
				AuthType string            `json:"auth-type"`
				Details  map[string]string `json:"details"`
			} `json:"cloud-credentials"`
		} `json:"client-credentials"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	c := doc.ClientCredentials["mycloud"].CloudCredentials["admin"]
	if c.AuthType != "userpass" || c.Details["username"] != "bob" || c.Details["password"] != "" {
		t.Errorf("credentials document: %+v", c)
	}
	if out, _, _ := troupeIn(t, home, "credentials", "--format", "json", "--show-secrets"); !strings.Contains(out, "hunter2") {
		t.Errorf("--show-secrets hides the password: %s", out)
	}

	if _, e, code := troupeIn(t, home, "remove-cloud", "--client", "mycloud"); code != 0 {
		t.Fatalf("remove-cloud: %d %s", code, e)
	}
	if _, e, code := troupeIn(t, home, "show-cloud", "--client", "mycloud"); code == 0 || !strings.Contains(e, "not found") {
		t.Errorf("show-cloud after remove: %d %q", code, e)
	}
	if _, e, code := troupeIn(t, home, "remove-cloud", "--controller", "ctl", "mycloud"); code == 0 || !strings.Contains(e, "bootstrap") {
		t.Errorf("--controller without a controller: %d %q", code, e)
	}
	if fi, err := os.Stat(filepath.Join(home, "credentials.yaml")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode: %v %v", fi, err)
	}
}
