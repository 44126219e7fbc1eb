package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

func TestSecretContent(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	os.WriteFile(file, []byte("user: bob\nport: 5432\n"), 0o600)
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, []byte("PEM"), 0o600)
	got, err := secretContent([]string{"password=a=b", "blob#base64=aGk=", "key#file=" + keyFile}, file)
	want := map[string]string{"user": "bob", "port": "5432", "password": "a=b", "blob": "hi", "key": "PEM"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("secretContent = %v, %v; want %v", got, err, want)
	}
	for _, bad := range [][]string{{"novalue"}, {"=v"}, {"k#base64=!!"}, {"k#zip=v"}, {"k#file=" + filepath.Join(dir, "nope")}} {
		if _, err := secretContent(bad, ""); err == nil {
			t.Errorf("secretContent(%q) succeeded", bad)
		}
	}
}

// TestSecretDocShape pins the JSON of secrets/show-secret (cli contract
// §5.6): required keys always, optional ones only when set, content only
// with --reveal and under "Data".
func TestSecretDocShape(t *testing.T) {
	bare := &apipb.SecretInfo{Id: "d1ehcifmp25c76e01vhg", Owner: "<model>", Revision: 1, Created: "2026-06-26T09:43:38Z", Updated: "2026-06-26T09:43:38Z"}
	full := &apipb.SecretInfo{Id: "d1ehcifmp25c76e01vhg", Owner: "vault", Name: "n", Description: "d", Label: "l", Rotation: "daily",
		Expires: "2027-01-01T00:00:00Z", Revision: 2, Created: "2026-06-26T09:43:38Z", Updated: "2026-06-27T09:43:38Z",
		Access:     []*apipb.SecretAccessInfo{{Target: "application-client", Scope: "relation-vault.creds#client.creds", Role: "view"}},
		Revisions:  []*apipb.SecretRevisionInfo{{Revision: 2, Created: "2026-06-27T09:43:38Z", Updated: "2026-06-27T09:43:38Z"}},
		HasContent: true, Content: map[string]string{"password": "x"}}
	for _, tt := range []struct {
		info *apipb.SecretInfo
		want string
	}{{
		bare, `{"created":"2026-06-26T09:43:38Z","owner":"<model>","revision":1,"updated":"2026-06-26T09:43:38Z"}`,
	}, {
		full, `{"access":[{"role":"view","scope":"relation-vault.creds#client.creds","target":"application-client"}],` +
			`"content":{"Data":{"password":"x"}},"created":"2026-06-26T09:43:38Z","description":"d","expires":"2027-01-01T00:00:00Z",` +
			`"label":"l","name":"n","owner":"vault","revision":2,"revisions":[{"created":"2026-06-27T09:43:38Z","revision":2,` +
			`"updated":"2026-06-27T09:43:38Z"}],"rotation":"daily","updated":"2026-06-27T09:43:38Z"}`,
	}} {
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(secretDoc(tt.info))
		if data := strings.TrimSpace(buf.String()); data != tt.want {
			t.Errorf("secretDoc =\n%s\nwant\n%s", data, tt.want)
		}
	}
	var out strings.Builder
	if err := writeSecrets(&Env{Stdout: &out}, "json", nil); err != nil || out.String() != "{}\n" {
		t.Errorf("no secrets: %q, %v; want {}", out.String(), err)
	}
	out.Reset()
	writeSecrets(&Env{Stdout: &out}, "json", []*apipb.SecretInfo{bare})
	if !strings.HasPrefix(out.String(), `{"d1ehcifmp25c76e01vhg":{`) || !strings.Contains(out.String(), `"owner":"<model>"`) {
		t.Errorf("keyed by the bare id, <model> unescaped: %s", out.String())
	}
}
