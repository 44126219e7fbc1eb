package hookcmds_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/internal/hookcmds/hookcmdstest"
)

var relationCases = []toolCase{
	// relation-ids
	{name: "relation-ids json", argv: []string{"relation-ids", "db", "--format=json"}, stdout: `["db:3","db:7"]` + "\n"},
	{name: "relation-ids default endpoint", argv: []string{"relation-ids"}, stdout: "db:3\ndb:7\n"},
	{name: "relation-ids none json", argv: []string{"relation-ids", "website", "--format=json"}, stdout: "[]\n"},
	{name: "relation-ids none smart", argv: []string{"relation-ids", "website"}, stdout: ""},
	{name: "relation-ids outside relation hook", argv: []string{"relation-ids"},
		setup: func(u *hookcmdstest.Unit) { u.Info.RelationID = -1 }, stderr: "ERROR no endpoint name specified\n", code: 2},

	// relation-list
	{name: "relation-list ops3", argv: []string{"relation-list", "--format=json", "-r", "db:3"}, stdout: `["mysql/0","mysql/1"]` + "\n"},
	{name: "relation-list ops2", argv: []string{"relation-list", "-r", "3", "--format=json"}, stdout: `["mysql/0","mysql/1"]` + "\n"},
	{name: "relation-list app ops3", argv: []string{"relation-list", "--format=json", "--app", "-r", "db:3"}, stdout: "\"mysql\"\n"},
	{name: "relation-list app ops2", argv: []string{"relation-list", "-r", "3", "--app", "--format=json"}, stdout: "\"mysql\"\n"},
	{name: "relation-list shell", argv: []string{"relation-list"}, stdout: "mysql/0\nmysql/1\n"},
	{name: "relation-list -r=", argv: []string{"relation-list", "-r=1"}, stdout: "wordpress/1\n"},
	{name: "relation-list --relation=", argv: []string{"relation-list", "--relation=cluster:1", "--format", "json"}, stdout: `["wordpress/1"]` + "\n"},
	{name: "relation-list empty json", argv: []string{"relation-list", "-r", "7", "--format=json"}, stdout: "[]\n"},
	{name: "relation-list unknown id", argv: []string{"relation-list", "-r", "db:42"},
		stderr: "ERROR invalid value \"db:42\" for option -r: relation not found\n", code: 2},
	{name: "relation-list bad id", argv: []string{"relation-list", "-r", "db:x"},
		stderr: "ERROR invalid value \"db:x\" for option -r: invalid relation id\n", code: 2},
	{name: "relation-list no relation", argv: []string{"relation-list"},
		setup: func(u *hookcmdstest.Unit) { u.Info.RelationID = -1 }, stderr: "ERROR no relation id specified\n", code: 2},

	// relation-get
	{name: "relation-get ops3 unit", argv: []string{"relation-get", "--format=json", "-r", "db:3", "-", "mysql/0"},
		stdout: `{"host":"10.0.0.5","user":"wp"}` + "\n"},
	{name: "relation-get ops3 app", argv: []string{"relation-get", "--format=json", "-r", "db:3", "--app", "-", "mysql"},
		stdout: `{"database":"wp"}` + "\n"},
	{name: "relation-get ops2 unit", argv: []string{"relation-get", "-r", "3", "-", "mysql/0", "--format=json"},
		stdout: `{"host":"10.0.0.5","user":"wp"}` + "\n"},
	{name: "relation-get ops2 app", argv: []string{"relation-get", "-r", "3", "-", "mysql", "--app", "--format=json"},
		stdout: `{"database":"wp"}` + "\n"},
	{name: "relation-get shell default remote unit", argv: []string{"relation-get"}, stdout: "host: 10.0.0.5\nuser: wp\n"},
	{name: "relation-get shell key", argv: []string{"relation-get", "host"}, stdout: "10.0.0.5\n"},
	{name: "relation-get missing key", argv: []string{"relation-get", "nope"}, stdout: ""},
	{name: "relation-get app event default", argv: []string{"relation-get", "--format=json"},
		setup: func(u *hookcmdstest.Unit) { u.Info.RemoteUnit = "" }, stdout: `{"database":"wp"}` + "\n"},
	{name: "relation-get own unit sees pending", argv: []string{"relation-get", "-", "wordpress/0", "--format=json"},
		stdout: `{"private-address":"10.0.0.1"}` + "\n"},
	{name: "relation-get no target", argv: []string{"relation-get", "-r", "7"},
		stderr: "ERROR no unit or application specified\n", code: 2},
	{name: "relation-get app name without --app", argv: []string{"relation-get", "-", "mysql"},
		stderr: "ERROR expected unit name, got application name \"mysql\"\n", code: 2},
	{name: "relation-get own app bag leader", argv: []string{"relation-get", "--app", "-", "wordpress", "--format=json"},
		stdout: `{"url":"http://blog"}` + "\n"},
	{name: "relation-get own app bag non-leader", argv: []string{"relation-get", "--app", "-", "wordpress"},
		setup: func(u *hookcmdstest.Unit) { u.Leader = false }, stderr: "ERROR permission denied\n", code: 1},
	{name: "relation-get own app bag non-leader peer", argv: []string{"relation-get", "-r", "1", "--app", "-", "wordpress", "--format=json"},
		setup: func(u *hookcmdstest.Unit) { u.Leader = false }, stdout: `{"peer":"yes"}` + "\n"},
	{name: "relation-get unknown relation", argv: []string{"relation-get", "-r", "9", "-", "mysql/0"},
		stderr: "ERROR invalid value \"9\" for option -r: relation not found\n", code: 2},

	// relation-set
	{name: "relation-set ops3 json stdin", argv: []string{"relation-set", "-r", "db:3", "--file", "-"},
		stdin: str(`{"a": "1", "b": ""}`),
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			relChanges(t, ch, 3, map[string]string{"a": "1", "b": ""}, nil)
		}},
	{name: "relation-set ops2 yaml stdin app", argv: []string{"relation-set", "-r", "3", "--app", "--file", "-"},
		stdin: str("url: http://x\nport: 80\n"),
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			relChanges(t, ch, 3, nil, map[string]string{"url": "http://x", "port": "80"})
		}},
	{name: "relation-set shell pairs", argv: []string{"relation-set", "foo=bar", "-r", "db:7", "x=y=z"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			relChanges(t, ch, 7, map[string]string{"foo": "bar", "x": "y=z"}, nil)
		}},
	{name: "relation-set app non-leader", argv: []string{"relation-set", "--app", "a=b"},
		setup: func(u *hookcmdstest.Unit) { u.Leader = false }, stderr: "ERROR cannot write relation settings\n", code: 1,
		check: noChanges},
	{name: "relation-set bad pair", argv: []string{"relation-set", "novalue"}, stderr: "ERROR expected \"key=value\", got \"novalue\"\n", code: 2},
	{name: "relation-set invalid utf8", argv: []string{"relation-set", "k=\xff"},
		stderr: "ERROR cannot set relation setting \"k\": value is not valid UTF-8\n", code: 1, check: noChanges},
	{name: "relation-set bad yaml", argv: []string{"relation-set", "--file", "-"}, stdin: str("[1, 2"),
		stderr: "ERROR cannot parse settings file: yaml: line 1: did not find expected ',' or ']'\n", code: 1},
	{name: "relation-set nested value", argv: []string{"relation-set", "--file", "-"}, stdin: str("a: {b: c}"),
		stderr: "ERROR cannot parse settings file: value of \"a\" is not a string\n", code: 1},

	// relation-model-get
	{name: "relation-model-get ops3", argv: []string{"relation-model-get", "--format=json", "-r", "db:3"}, stdout: `{"uuid":"remote-uuid"}` + "\n"},
	{name: "relation-model-get ops2", argv: []string{"relation-model-get", "-r", "1", "--format=json"}, stdout: `{"uuid":"deadbeef-0bad-400d-8000-4b1d0d06f00d"}` + "\n"},
}

var actionCases = []toolCase{
	{name: "action-get json", argv: []string{"action-get", "--format=json"},
		setup:  inAction,
		stdout: `{"db":{"name":"wp"},"force":true,"n":3}` + "\n"},
	{name: "action-get nested key", argv: []string{"action-get", "db.name"}, setup: inAction, stdout: "wp\n"},
	{name: "action-get missing key", argv: []string{"action-get", "db.nope", "--format=json"}, setup: inAction, stdout: "null\n"},
	{name: "action-get outside action", argv: []string{"action-get"}, stderr: "ERROR not running an action\n", code: 1},
	{name: "action-set", argv: []string{"action-set", "out.path=/tmp/x", "count=3", "out.size=1"}, setup: inAction,
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "results", u.Action.Results, map[string]any{"count": "3", "out": map[string]any{"path": "/tmp/x", "size": "1"}})
		}},
	{name: "action-set reserved", argv: []string{"action-set", "stdout=x"}, setup: inAction,
		stderr: "ERROR cannot set reserved action key \"stdout\"\n", code: 2},
	{name: "action-set bad key", argv: []string{"action-set", "Bad=x"}, setup: inAction,
		stderr: "ERROR key \"Bad\" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods\n", code: 2},
	{name: "action-log ops3", argv: []string{"action-log", "--", "-50% done"}, setup: inAction,
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "logs", u.Action.Logs, []string{"-50% done"})
		}},
	{name: "action-log ops2", argv: []string{"action-log", "half", "done"}, setup: inAction,
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "logs", u.Action.Logs, []string{"half done"})
		}},
	{name: "action-fail default", argv: []string{"action-fail"}, setup: inAction,
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "fail", u.Action.FailReason, "action failed without reason given, check action for errors")
		}},
	{name: "action-fail ops3", argv: []string{"action-fail", "--", "broke"}, setup: inAction,
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "fail", u.Action.FailReason, "broke")
		}},
	{name: "action-fail outside action", argv: []string{"action-fail", "x"}, stderr: "ERROR not running an action\n", code: 1},
}

func inAction(u *hookcmdstest.Unit) {
	u.Info = hookcmds.HookInfo{UnitName: "wordpress/0", RelationID: -1, ActionName: "backup"}
	u.Action = &hookcmdstest.Action{Params: map[string]any{"db": map[string]any{"name": "wp"}, "force": true, "n": 3}}
}

var portCases = []toolCase{
	{name: "open-port ops2", argv: []string{"open-port", "443/tcp"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "open", ch.OpenPorts, map[string][]hookcmds.PortRange{"": {{443, 443, "tcp"}}})
		}},
	{name: "open-port ops3 endpoints range", argv: []string{"open-port", "--endpoints", "web,admin", "9000-9010/udp"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			r := []hookcmds.PortRange{{9000, 9010, "udp"}}
			wantEqual(t, "open", ch.OpenPorts, map[string][]hookcmds.PortRange{"web": r, "admin": r})
		}},
	{name: "open-port icmp", argv: []string{"open-port", "icmp"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "open", ch.OpenPorts, map[string][]hookcmds.PortRange{"": {{-1, -1, "icmp"}}})
		}},
	{name: "open-port bad", argv: []string{"open-port", "70000"},
		stderr: "ERROR invalid port range \"70000\": ports must be in 1-65535 and from <= to\n", code: 2},
	{name: "open-port bad proto", argv: []string{"open-port", "80/sctp"},
		stderr: "ERROR invalid port or range \"80/sctp\": expected <port>[/<protocol>], <from>-<to>[/<protocol>] or icmp\n", code: 2},
	{name: "close-port", argv: []string{"close-port", "80"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "close", ch.ClosePorts, map[string][]hookcmds.PortRange{"": {{80, 80, "tcp"}}})
		}},
	{name: "opened-ports smart", argv: []string{"opened-ports"}, stdout: "80/tcp\n8000-8100/udp\n"},
	{name: "opened-ports json", argv: []string{"opened-ports", "--format=json"}, stdout: `["80/tcp","8000-8100/udp"]` + "\n"},
	{name: "opened-ports endpoints", argv: []string{"opened-ports", "--endpoints"}, stdout: "80/tcp (*)\n8000-8100/udp (web)\n"},
}

var storageStateCases = []toolCase{
	{name: "storage-list ops3", argv: []string{"storage-list", "--format=json", "data"}, stdout: `["data/0"]` + "\n"},
	{name: "storage-list ops2", argv: []string{"storage-list", "logs", "--format=json"}, stdout: `["logs/1"]` + "\n"},
	{name: "storage-list all", argv: []string{"storage-list"}, stdout: "data/0\nlogs/1\n"},
	{name: "storage-get ops3", argv: []string{"storage-get", "--format=json", "-s", "data/0"}, stdout: `{"kind":"filesystem","location":"/srv/data"}` + "\n"},
	{name: "storage-get ops2", argv: []string{"storage-get", "-s", "logs/1", "location", "--format=json"}, stdout: "\"/dev/sdb\"\n"},
	{name: "storage-get default", argv: []string{"storage-get", "kind"}, setup: func(u *hookcmdstest.Unit) { u.Info.StorageID = "data/0" }, stdout: "filesystem\n"},
	{name: "storage-get none", argv: []string{"storage-get"}, stderr: "ERROR no storage instance specified\n", code: 2},
	{name: "storage-get unknown", argv: []string{"storage-get", "-s", "data/9"}, stderr: "ERROR storage \"data/9\" not found\n", code: 1},
	{name: "storage-add", argv: []string{"storage-add", "data=2", "logs"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "storage", ch.AddStorage, map[string]int{"data": 2, "logs": 1})
		}},
	{name: "storage-add constraint", argv: []string{"storage-add", "data=10G"}, stderr: "ERROR only count can be specified for \"data\"\n", code: 2},
	{name: "state-get key", argv: []string{"state-get", "stored"}, stdout: "x\n"},
	{name: "state-get all", argv: []string{"state-get", "--format=json"}, stdout: `{"stored":"x"}` + "\n"},
	{name: "state-get missing", argv: []string{"state-get", "nope"}, stdout: ""},
	{name: "state-get strict", argv: []string{"state-get", "--strict", "nope"}, stderr: "ERROR key \"nope\" not found\n", code: 1},
	{name: "state-set file stdin", argv: []string{"state-set", "--file", "-"}, stdin: str("a: b\nstored: \"\"\n"),
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "set", ch.CharmStateSet, map[string]string{"a": "b"})
			wantEqual(t, "delete", ch.CharmStateDelete, []string{"stored"})
		}},
	{name: "state-set oversize", argv: []string{"state-set", "big=" + strings.Repeat("x", 2<<20)},
		stderr: "ERROR cannot set charm state: 2097162 bytes exceeds max-charm-state-size of 2097152 bytes\n", code: 1, check: noChanges},
	{name: "state-delete", argv: []string{"state-delete", "stored"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "delete", ch.CharmStateDelete, []string{"stored"})
		}},
	{name: "state-delete none", argv: []string{"state-delete"}, stderr: "ERROR no key specified\n", code: 2},
}

const ownedSecret = "secret:cn0q4mi1ft7uvo1k5fog"

var secretCases = []toolCase{
	{name: "secret-get ops3", argv: []string{"secret-get", "--format=json", ownedSecret},
		stdout: `{"bin#base64":"//4=","password":"hunter2"}` + "\n"},
	{name: "secret-get ops2 label", argv: []string{"secret-get", "--label", "theirs", "--refresh", "--format=json"},
		stdout: `{"token":"abc"}` + "\n"},
	{name: "secret-get default yaml key", argv: []string{"secret-get", "cn0q4mi1ft7uvo1k5fog", "password"}, stdout: "hunter2\n"},
	{name: "secret-get peek refresh", argv: []string{"secret-get", ownedSecret, "--peek", "--refresh"},
		stderr: "ERROR specify one of --peek or --refresh but not both\n", code: 2},
	{name: "secret-get nothing", argv: []string{"secret-get"}, stderr: "ERROR require either a secret URI or label\n", code: 2},
	{name: "secret-get not found", argv: []string{"secret-get", "secret:zzzzzzzzzzzzzzzzzzzz"},
		stderr: "ERROR secret \"zzzzzzzzzzzzzzzzzzzz\" not found\n", code: 1},
	{name: "secret-info-get ops3", argv: []string{"secret-info-get", "--format=json", ownedSecret},
		stdout: `{"cn0q4mi1ft7uvo1k5fog":{"access":[{"role":"view","scope":"relation-db:3","target":"application-mysql"}],"label":"db-pass","owner":"application","revision":2,"rotation":"daily"}}` + "\n"},
	{name: "secret-info-get ops2 label", argv: []string{"secret-info-get", "--label", "db-pass", "--format=json"},
		stdout: `{"cn0q4mi1ft7uvo1k5fog":{"access":[{"role":"view","scope":"relation-db:3","target":"application-mysql"}],"label":"db-pass","owner":"application","revision":2,"rotation":"daily"}}` + "\n"},
	{name: "secret-info-get yaml", argv: []string{"secret-info-get", ownedSecret},
		stdout: "cn0q4mi1ft7uvo1k5fog:\n  access:\n  - role: view\n    scope: relation-db:3\n    target: application-mysql\n  label: db-pass\n  owner: application\n  revision: 2\n  rotation: daily\n"},
	{name: "secret-info-get not owned", argv: []string{"secret-info-get", "secret:remote00000000000000"},
		stderr: "ERROR secret \"remote00000000000000\" not found\n", code: 1},
	{name: "secret-info-get both", argv: []string{"secret-info-get", ownedSecret, "--label", "x"},
		stderr: "ERROR specify either a secret URI or label but not both\n", code: 2},
	{name: "secret-ids", argv: []string{"secret-ids"}, stdout: ownedSecret + "\n"},
	{name: "secret-ids json", argv: []string{"secret-ids", "--format=json"}, stdout: `["` + ownedSecret + `"]` + "\n"},
	{name: "secret-set ops3", argv: []string{"secret-set", "--label", "new", "--owner", "application", ownedSecret, "password=x"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			if len(ch.Secrets) != 1 || ch.Secrets[0].Kind != "update" || *ch.Secrets[0].Args.Label != "new" ||
				!mapsEqual(ch.Secrets[0].Args.Content, map[string]string{"password": "x"}) {
				t.Errorf("changes: %+v", ch.Secrets)
			}
		}},
	{name: "secret-set nothing", argv: []string{"secret-set", ownedSecret}, stderr: "ERROR at least one attribute to update must be specified\n", code: 2},
	{name: "secret-set unknown", argv: []string{"secret-set", "secret:remote00000000000000", "abc=d"},
		stderr: "ERROR secret \"remote00000000000000\" not found\n", code: 1},
	{name: "secret-add bad key", argv: []string{"secret-add", "A=b"}, stderr: "ERROR key \"A\" not valid\n", code: 2},
	{name: "secret-add empty", argv: []string{"secret-add", "--label", "x"}, stderr: "ERROR missing secret value or filename\n", code: 2},
	{name: "secret-add oversize value", argv: []string{"secret-add", "key=" + strings.Repeat("x", 7000)},
		stderr: "ERROR secret content for key \"key\" too large: 9336 bytes\n", code: 2},
	{name: "secret-add bad rotate", argv: []string{"secret-add", "--rotate", "often", "key=v"}, stderr: "ERROR rotate policy \"often\" not valid\n", code: 2},
	{name: "secret-add app non-leader", argv: []string{"secret-add", "key=v"}, setup: func(u *hookcmdstest.Unit) { u.Leader = false },
		stderr: "ERROR cannot create secret: this unit is not the leader\n", code: 1},
	{name: "secret-grant ops3", argv: []string{"secret-grant", "--relation", "3", "--unit", "mysql/0", ownedSecret},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "secrets", ch.Secrets, []hookcmds.SecretChange{{Kind: "grant", URI: ownedSecret, Grant: hookcmds.SecretGrant{RelationID: 3, Unit: "mysql/0"}}})
		}},
	{name: "secret-grant ops2", argv: []string{"secret-grant", ownedSecret, "--relation", "db:3"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "secrets", ch.Secrets, []hookcmds.SecretChange{{Kind: "grant", URI: ownedSecret, Grant: hookcmds.SecretGrant{RelationID: 3}}})
		}},
	{name: "secret-grant no relation", argv: []string{"secret-grant", ownedSecret}, stderr: "ERROR missing relation\n", code: 2},
	{name: "secret-grant bad relation", argv: []string{"secret-grant", ownedSecret, "-r", "99"},
		stderr: "ERROR invalid value \"99\" for option -r: relation not found\n", code: 2},
	{name: "secret-revoke", argv: []string{"secret-revoke", "--relation", "3", "--unit", "mysql/0", ownedSecret},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "secrets", ch.Secrets, []hookcmds.SecretChange{{Kind: "revoke", URI: ownedSecret, Grant: hookcmds.SecretGrant{RelationID: 3, Unit: "mysql/0"}}})
		}},
	{name: "secret-revoke app", argv: []string{"secret-revoke", ownedSecret, "--app", "mysql"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "secrets", ch.Secrets, []hookcmds.SecretChange{{Kind: "revoke", URI: ownedSecret, Grant: hookcmds.SecretGrant{RelationID: -1, Application: "mysql"}}})
		}},
	{name: "secret-revoke nothing", argv: []string{"secret-revoke", ownedSecret}, stderr: "ERROR missing relation or application or unit\n", code: 2},
	{name: "secret-remove revision", argv: []string{"secret-remove", ownedSecret, "--revision", "2"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "secrets", ch.Secrets, []hookcmds.SecretChange{{Kind: "remove", URI: ownedSecret, Revision: 2}})
		}},
	{name: "secret-remove bad revision", argv: []string{"secret-remove", ownedSecret, "--revision", "x"},
		stderr: "ERROR invalid value \"x\" for option --revision: revision must be a positive integer\n", code: 2},
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestRelationTools(t *testing.T) {
	for _, tc := range relationCases {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc) })
	}
}

func TestActionTools(t *testing.T) {
	for _, tc := range actionCases {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc) })
	}
}

func TestPortTools(t *testing.T) {
	for _, tc := range portCases {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc) })
	}
}

func TestStorageAndStateTools(t *testing.T) {
	for _, tc := range storageStateCases {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc) })
	}
}

func TestSecretTools(t *testing.T) {
	for _, tc := range secretCases {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc) })
	}
}

// TestSecretAddLifecycle covers ops' secret-add form with #file content and
// reading the new secret back in the same hook.
func TestSecretAddLifecycle(t *testing.T) {
	u := newUnit()
	hs := hookcmdstest.NewContext(u)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
	res := hookcmds.Run(hs, hookcmds.Invocation{Name: "secret-add", Dir: dir, Now: now, Args: []string{
		"--label", "creds", "--description", "d", "--expire", "1h", "--rotate", "weekly", "--owner", "unit",
		"password#file=pw", "user#base64=YWRtaW4=",
	}})
	if res.Code != 0 {
		t.Fatalf("secret-add: %d %s", res.Code, res.Stderr)
	}
	uri := strings.TrimSuffix(string(res.Stdout), "\n")
	if !strings.HasPrefix(uri, "secret:") || len(uri) != len("secret:")+20 {
		t.Fatalf("bad uri %q", uri)
	}
	res = hookcmds.Run(hs, hookcmds.Invocation{Name: "secret-get", Args: []string{"--label", "creds", "--format=json"}})
	wantEqual(t, "content", string(res.Stdout), `{"password":"s3cret","user":"admin"}`+"\n")
	res = hookcmds.Run(hs, hookcmds.Invocation{Name: "secret-info-get", Args: []string{uri, "--format=json"}})
	id := strings.TrimPrefix(uri, "secret:")
	wantEqual(t, "info", string(res.Stdout), `{"`+id+`":{"description":"d","expiry":"2025-01-02T04:04:05Z","label":"creds","owner":"unit","revision":1,"rotation":"weekly"}}`+"\n")
	ch := hs.Changes()
	if len(ch.Secrets) != 1 || ch.Secrets[0].Kind != "create" || ch.Secrets[0].URI != uri {
		t.Fatalf("changes: %+v", ch.Secrets)
	}
}

// TestLeadershipSticky checks that a false is-leader holds for the hook
// even if leadership is gained meanwhile.
func TestLeadershipSticky(t *testing.T) {
	u := newUnit()
	u.Leader = false
	hs := hookcmdstest.NewContext(u)
	run := func(args ...string) hookcmds.Result {
		return hookcmds.Run(hs, hookcmds.Invocation{Name: args[0], Args: args[1:]})
	}
	wantEqual(t, "first", string(run("is-leader").Stdout), "False\n")
	u.Leader = true
	wantEqual(t, "second", string(run("is-leader").Stdout), "False\n")
	if r := run("relation-set", "--app", "a=b"); r.Code != 1 {
		t.Errorf("relation-set --app after lost leadership: code %d", r.Code)
	}
	wantEqual(t, "claims", u.LeaderClaims, 1)
}

// TestRelationReadYourWrites checks buffered writes are visible to the
// writing hook and not to the backend until commit.
func TestRelationReadYourWrites(t *testing.T) {
	u := newUnit()
	hs := hookcmdstest.NewContext(u)
	run := func(args ...string) string {
		r := hookcmds.Run(hs, hookcmds.Invocation{Name: args[0], Args: args[1:]})
		if r.Code != 0 {
			t.Fatalf("%v: %d %s", args, r.Code, r.Stderr)
		}
		return string(r.Stdout)
	}
	run("relation-set", "a=1", "private-address=")
	run("relation-set", "--app", "url=")
	wantEqual(t, "unit bag", run("relation-get", "-", "wordpress/0", "--format=json"), `{"a":"1"}`+"\n")
	wantEqual(t, "app bag", run("relation-get", "--app", "-", "wordpress", "--format=json"), "{}\n")
	wantEqual(t, "backend untouched", u.Rels[3].Settings["wordpress/0"], map[string]string{"private-address": "10.0.0.1"})
	// Remote reads are cached for the hook.
	wantEqual(t, "first read", run("relation-get", "host", "mysql/0"), "10.0.0.5\n")
	u.Rels[3].Settings["mysql/0"]["host"] = "changed"
	wantEqual(t, "cached", run("relation-get", "host", "mysql/0"), "10.0.0.5\n")
}

// TestOutputFile checks -o writes to a file relative to the caller's dir.
func TestOutputFile(t *testing.T) {
	u := newUnit()
	dir := t.TempDir()
	r := hookcmds.Run(hookcmdstest.NewContext(u), hookcmds.Invocation{Name: "config-get", Dir: dir, Args: []string{"-o", "out.json", "--format=json", "port"}})
	if r.Code != 0 || len(r.Stdout) != 0 {
		t.Fatalf("config-get -o: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "file", string(data), "80\n")
}

// TestNeedStdin checks that --file - asks for stdin through the StdinFunc.
func TestNeedStdin(t *testing.T) {
	u := newUnit()
	asked := false
	r := hookcmds.Run(hookcmdstest.NewContext(u), hookcmds.Invocation{Name: "relation-set", Args: []string{"--file", "-"},
		Stdin: func() ([]byte, error) { asked = true; return nil, hookcmds.ErrNeedStdin }})
	if !asked || r.Code != 1 {
		t.Fatalf("asked=%v code=%d", asked, r.Code)
	}
}

// TestYAMLFormatting pins the yaml.v2-style layout of smart/yaml output.
func TestYAMLFormatting(t *testing.T) {
	u := newUnit()
	u.Config = map[string]any{"multi": "a\nb\n", "yes": "yes", "num": "80", "empty": "", "list": []any{"x", map[string]any{"k": "v", "z": 1}}, "nested": map[string]any{"m": map[string]any{}}}
	r := hookcmds.Run(hookcmdstest.NewContext(u), hookcmds.Invocation{Name: "config-get"})
	want := "empty: \"\"\nlist:\n- x\n- k: v\n  z: 1\nmulti: |\n  a\n  b\nnested:\n  m: {}\nnum: \"80\"\n\"yes\": \"yes\"\n"
	wantEqual(t, "yaml", string(r.Stdout), want)
}

// TestToolNamesMatch keeps the symlink list and the implementations in step.
func TestToolNamesMatch(t *testing.T) {
	wantEqual(t, "tool names", hookcmds.ToolNames(), hooktoolNames())
}
