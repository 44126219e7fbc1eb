package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

// run runs the CLI in-process with a TROUPE_HOME that has no controller.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("TROUPE_HOME", t.TempDir())
	var out, errb bytes.Buffer
	code = Main(append([]string{"juju"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// TestArgvRejectedBeforeConnecting pins argv → exit code and stderr for
// errors found while parsing: exit 2, one `ERROR ...` line, empty stdout.
func TestArgvRejectedBeforeConnecting(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		phrase string
	}{
		{[]string{"destroy-model", "m"}, "--no-prompt"},
		{[]string{"destroy-model", "--no-prompt"}, "exactly one model"},
		{[]string{"destroy-model", "m", "--no-prompt", "--timeout", "5m"}, "only be used with --force"},
		{[]string{"destroy-model", "m", "--no-prompt", "--force", "--timeout", "soon"}, "timeout"},
		{[]string{"deploy", "./x.charm", "--constraints", "colour=red"}, `unknown constraint "colour"`},
		{[]string{"deploy", "./x.charm", "--base", "ubuntu"}, "invalid --base"},
		{[]string{"deploy", "./x.charm", "--channel", "edge"}, "Charmhub"},
		{[]string{"deploy", "./x.charm", "--resource", "=x"}, "expected name=path"},
		{[]string{"set-model-constraints", "mem=lots"}, `bad "mem" constraint`},
		{[]string{"model-constraints", "mem=1G"}, "set-model-constraints"},
		{[]string{"add-ssh-key"}, "no ssh key given"},
		{[]string{"remove-machine"}, "no machine given"},
		{[]string{"show-unit"}, "no unit given"},
		{[]string{"show-model", "a", "b"}, "at most one"},
		{[]string{"trust"}, "one application"},
		{[]string{"trust", "app", "--scope", "namespace"}, "invalid --scope"},
		{[]string{"add-model", "Bad_Name"}, "invalid model name"},
		{[]string{"add-model", "m", "--config", "novalue"}, "novalue"},
		{[]string{"version", "--format", "xml"}, "invalid --format"},
		{[]string{"status", "--model", "c:u/"}, "invalid model reference"},
		{[]string{"no-such-command"}, "unrecognized command"},
		{[]string{"remove-unit", "--no-prompt", "app", "--num-units", "2"}, "--num-units for non kubernetes models not valid"},
		{[]string{"destroy-model", "m", "--no-prompt", "--destroy-storage", "--release-storage"}, "cannot both be specified"},
		{[]string{"add-machine", "lxd"}, "add-model NAME lxd"},
		{[]string{"add-machine", "lxd:4"}, "inside machines"},
		{[]string{"add-machine", "ssh:ubuntu@10.0.0.9"}, "manually provisioned machines are not supported"},
		{[]string{"integrate", "a", "b", "--via", "10.0.0.0/24"}, "cross-controller"},
	} {
		code, stdout, stderr := run(t, tc.args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "ERROR ") || !strings.Contains(stderr, tc.phrase) {
			t.Errorf("%q: exit %d stdout %q stderr %q; want exit 2 and %q", tc.args, code, stdout, stderr, tc.phrase)
		}
	}
}

// TestNoControllerIsAnError: a model-scoped command without a controller
// exits 1 and says what to do.
func TestNoControllerIsAnError(t *testing.T) {
	for _, args := range [][]string{{"show-model"}, {"destroy-model", "m", "--no-prompt"}, {"trust", "app"},
		{"model-constraints", "--format", "json"}, {"add-ssh-key", "ssh-rsa AAAA x"}, {"switch", "m"}, {"show-unit", "a/0"}} {
		code, stdout, stderr := run(t, args...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, "troupe bootstrap") {
			t.Errorf("%q: exit %d stdout %q stderr %q", args, code, stdout, stderr)
		}
	}
}

var versionRE = regexp.MustCompile(`^\d+\.\d+(\.\d+|-[a-z]+\d+)(\.\d+)?-[a-z]+-[a-z0-9]+$`)

func TestVersionJSONMatchesPlain(t *testing.T) {
	_, plain, _ := run(t, "version")
	code, js, stderr := run(t, "version", "--format", "json", "--all")
	if code != 0 || stderr != "" {
		t.Fatalf("version --format json --all: exit %d %q", code, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, js)
	}
	v, _ := doc["version"].(string)
	if v != strings.TrimSpace(plain) || !versionRE.MatchString(v) {
		t.Fatalf("version %q vs plain %q (pattern %s)", v, plain, versionRE)
	}
	for _, k := range []string{"compiler", "go-version", "official", "grade", "git-tree-state"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("--all lacks %q", k)
		}
	}
}

func TestResolveModelRef(t *testing.T) {
	cc := ClientConfig{Controller: "local"}
	for _, tc := range []struct{ in, want, err string }{
		{"m", "m", ""}, {"admin/m", "m", ""}, {"local:m", "m", ""}, {"local:admin/m", "m", ""},
		{"other:m", "", `controller "other" not found`}, {"bob/m", "", "owned by admin"}, {"local:", "", "invalid model reference"},
	} {
		got, err := resolveModelRef(cc, tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestUnitInfoShape checks show-unit's JSON field by field: required keys
// present, maps never null (a unit with no relation data at all).
func TestUnitInfoShape(t *testing.T) {
	app := &apipb.ApplicationStatus{Name: "testapp", CharmUrl: "local:testapp-0", WorkloadVersion: "1.2"}
	u := &apipb.UnitStatus{Name: "testapp/0", Machine: "0", Life: "alive", Address: "10.0.0.1"}
	rels := []*apipb.UnitRelationInfo{{RelationId: 3, Endpoint: "db", RelatedEndpoint: "server",
		RelatedUnits: []*apipb.RelatedUnitData{{Unit: "db/0", InScope: true}}}}
	data, err := json.Marshal(map[string]UnitInfo{"testapp/0": unitInfo(app, u, rels)})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	got := doc["testapp/0"]
	if got["charm"] != "local:testapp-0" || got["leader"] != false || got["machine"] != "0" || got["life"] != "alive" {
		t.Errorf("scalars: %v", got)
	}
	if ports, ok := got["opened-ports"].([]any); !ok || len(ports) != 0 {
		t.Errorf("opened-ports must be [] when none: %v", got["opened-ports"])
	}
	ri := got["relation-info"].([]any)[0].(map[string]any)
	if ri["relation-id"] != float64(3) || ri["endpoint"] != "db" || ri["related-endpoint"] != "server" {
		t.Errorf("relation-info: %v", ri)
	}
	if m, ok := ri["application-data"].(map[string]any); !ok || m == nil {
		t.Errorf("application-data must be a map: %v", ri["application-data"])
	}
	local := ri["local-unit"].(map[string]any)
	if _, ok := local["data"].(map[string]any); !ok || local["in-scope"] != false {
		t.Errorf("local-unit: %v", local)
	}
	ru := ri["related-units"].(map[string]any)["db/0"].(map[string]any)
	if _, ok := ru["data"].(map[string]any); !ok || ru["in-scope"] != true {
		t.Errorf("related-units: %v", ru)
	}
	// No relations: relation-info is absent, not null.
	data, _ = json.Marshal(unitInfo(app, u, nil))
	if strings.Contains(string(data), "null") || strings.Contains(string(data), "relation-info") {
		t.Errorf("unit without relations: %s", data)
	}
}

func TestShowModelInfoShape(t *testing.T) {
	data, err := json.Marshal(ShowModelInfo{Name: "admin/m", ShortName: "m", Users: map[string]ShowModelUser{},
		Machines: map[string]ShowModelMachine{"0": {}}, SecretBackends: map[string]ShowModelSecretsBE{}})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(data, &doc)
	for _, k := range []string{"name", "short-name", "model-uuid", "model-type", "controller-uuid", "controller-name", "is-controller", "cloud", "life"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("required key %q missing", k)
		}
	}
	if doc["machines"].(map[string]any)["0"].(map[string]any)["cores"] != float64(0) {
		t.Errorf("machines.0.cores must be an int: %v", doc["machines"])
	}
	if strings.Contains(string(data), "null") {
		t.Errorf("null in %s", data)
	}
}

func TestReadResources(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "payload.txt")
	os.WriteFile(p, []byte("x"), 0o600)
	got, err := readResources([]string{"payload=" + p})
	if err != nil || string(got["payload/payload.txt"]) != "x" || len(got) != 1 {
		t.Fatalf("readResources: %v %v", got, err)
	}
	if _, err := readResources([]string{"payload=" + filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "cannot read resource") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestSplitSSHArgs(t *testing.T) {
	for _, tc := range []struct {
		in            []string
		opts, command string
	}{
		{[]string{"-i", "KEY", "echo", "hi"}, "-i KEY", "echo hi"},
		{[]string{"-o", "A=B", "-t", "--", "-x"}, "-o A=B -t", "-x"},
		{[]string{"cat"}, "", "cat"},
		{nil, "", ""},
	} {
		opts, cmd := splitSSHArgs(tc.in)
		if strings.Join(opts, " ") != tc.opts || strings.Join(cmd, " ") != tc.command {
			t.Errorf("%q: opts %q command %q", tc.in, opts, cmd)
		}
	}
}
