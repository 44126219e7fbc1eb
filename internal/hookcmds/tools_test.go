package hookcmds_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/internal/hookcmds/hookcmdstest"
	"github.com/troupe-dev/troupe/internal/hooktool"
)

// newUnit is the fixture every case starts from: wordpress/0 (leader) in
// db-relation-changed for mysql/0 on relation db:3, plus peer cluster:1.
func newUnit() *hookcmdstest.Unit {
	u := hookcmdstest.NewUnit("wordpress/0")
	u.Info.RelationID = 3
	u.Info.RemoteUnit = "mysql/0"
	u.Info.RemoteApp = "mysql"
	u.Leader = true
	u.Status = hookcmds.StatusInfo{Status: "active", Message: "ready", Data: map[string]any{"k": "v"}}
	u.AppStatus = hookcmds.ApplicationStatusInfo{
		Application: hookcmds.StatusInfo{Status: "waiting", Message: "app"},
		Units:       map[string]hookcmds.StatusInfo{"wordpress/0": {Status: "active", Message: "ready"}},
	}
	u.Config = map[string]any{"name": "blog", "port": int64(80), "ratio": 0.5, "debug": false, "unset": nil}
	u.Rels[3] = &hookcmdstest.Relation{
		Info:    hookcmds.RelationInfo{ID: 3, Endpoint: "db", RemoteApp: "mysql", RemoteModelUUID: "remote-uuid"},
		Members: []string{"mysql/1", "mysql/0"},
		Settings: map[string]map[string]string{
			"mysql/0":     {"host": "10.0.0.5", "user": "wp"},
			"mysql":       {"database": "wp"},
			"wordpress/0": {"private-address": "10.0.0.1"},
			"wordpress":   {"url": "http://blog"},
		},
	}
	u.Rels[1] = &hookcmdstest.Relation{
		Info:     hookcmds.RelationInfo{ID: 1, Endpoint: "cluster", RemoteApp: "wordpress", Peer: true},
		Members:  []string{"wordpress/1"},
		Settings: map[string]map[string]string{"wordpress": {"peer": "yes"}},
	}
	u.Rels[7] = &hookcmdstest.Relation{
		Info: hookcmds.RelationInfo{ID: 7, Endpoint: "db", RemoteApp: "pg"},
	}
	u.LeaderData = map[string]string{"a": "1", "b": "two"}
	u.Ports[""] = []hookcmds.PortRange{{From: 80, To: 80, Protocol: "tcp"}}
	u.Ports["web"] = []hookcmds.PortRange{{From: 8000, To: 8100, Protocol: "udp"}}
	u.Networks["db"] = hookcmds.NetworkInfo{
		BindAddresses: []hookcmds.BindAddress{{MACAddress: "00:11", InterfaceName: "eth0",
			Addresses: []hookcmds.InterfaceAddress{{Hostname: "", Value: "10.0.0.1", CIDR: "10.0.0.0/24"}}}},
		EgressSubnets:    []string{"10.0.0.1/32"},
		IngressAddresses: []string{"10.0.0.1"},
	}
	u.PublicAddr, u.PrivateAddr = "1.2.3.4", "10.0.0.1"
	u.State = map[string]string{"stored": "x"}
	u.Storage["data/0"] = hookcmds.StorageAttachment{Kind: "filesystem", Location: "/srv/data"}
	u.Storage["logs/1"] = hookcmds.StorageAttachment{Kind: "block", Location: "/dev/sdb"}
	u.Resources["image"] = "/var/lib/res/image.tar"
	u.Secrets["secret:cn0q4mi1ft7uvo1k5fog"] = &hookcmdstest.Secret{
		Owned:   true,
		Meta:    hookcmds.SecretMetadata{URI: "secret:cn0q4mi1ft7uvo1k5fog", Revision: 2, Label: "db-pass", Owner: "application", RotatePolicy: "daily", Access: []hookcmds.SecretAccess{{Target: "application-mysql", Scope: "relation-db:3", Role: "view"}}},
		Content: map[string]string{"password": "hunter2", "bin": "\xff\xfe"},
	}
	u.Secrets["secret:remote00000000000000"] = &hookcmdstest.Secret{
		Meta:    hookcmds.SecretMetadata{Label: "theirs"},
		Content: map[string]string{"token": "abc"},
	}
	return u
}

type toolCase struct {
	name   string
	setup  func(u *hookcmdstest.Unit)
	argv   []string
	stdin  *string // nil: the client has not sent stdin yet
	stdout string
	stderr string
	code   int
	check  func(t *testing.T, u *hookcmdstest.Unit, ch hookcmds.Changes)
}

func str(s string) *string { return &s }

func runCase(t *testing.T, tc toolCase) {
	t.Helper()
	u := newUnit()
	if tc.setup != nil {
		tc.setup(u)
	}
	hs := hookcmdstest.NewContext(u)
	dir := t.TempDir()
	needed := false
	res := hookcmds.Run(hs, hookcmds.Invocation{
		Name: tc.argv[0], Args: tc.argv[1:], Dir: dir,
		Stdin: func() ([]byte, error) {
			if tc.stdin == nil {
				needed = true
				return nil, hooktool.ErrNeedStdin
			}
			return []byte(*tc.stdin), nil
		},
		Now: func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
	})
	if needed {
		t.Fatalf("tool asked for stdin the case did not provide")
	}
	if got := string(res.Stdout); got != tc.stdout {
		t.Errorf("stdout:\n got %q\nwant %q", got, tc.stdout)
	}
	if got := string(res.Stderr); got != tc.stderr {
		t.Errorf("stderr:\n got %q\nwant %q", got, tc.stderr)
	}
	if res.Code != tc.code {
		t.Errorf("code: got %d want %d", res.Code, tc.code)
	}
	if tc.check != nil {
		tc.check(t, u, hs.Changes())
	}
}

func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

func relChanges(t *testing.T, ch hookcmds.Changes, id int, unit, app map[string]string) {
	t.Helper()
	wantEqual(t, "relation changes", ch.RelationSettings[id], hookcmds.RelationChanges{Unit: unit, App: app})
}

func noChanges(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
	t.Helper()
	if !ch.IsEmpty() {
		t.Errorf("unexpected buffered changes: %+v", ch)
	}
}

var unitCases = []toolCase{
	// juju-log
	{name: "juju-log ops form", argv: []string{"juju-log", "--log-level", "WARNING", "--", "-hello", "world"},
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "logs", u.Logs, []hookcmdstest.LogEntry{{Level: "WARNING", Message: "db:3: -hello world"}})
		}},
	{name: "juju-log debug flag", argv: []string{"juju-log", "hi", "--debug"},
		setup: func(u *hookcmdstest.Unit) { u.Info.RelationID = -1 },
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "logs", u.Logs, []hookcmdstest.LogEntry{{Level: "DEBUG", Message: "hi"}})
		}},
	{name: "juju-log bad level", argv: []string{"juju-log", "-l", "loud", "hi"},
		setup: func(u *hookcmdstest.Unit) { u.Info.RelationID = -1 },
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "logs", u.Logs, []hookcmdstest.LogEntry{{Level: "WARNING", Message: `Specified log level of "LOUD" is not valid`}, {Level: "INFO", Message: "hi"}})
		}},
	{name: "juju-log no message", argv: []string{"juju-log"}, stderr: "ERROR no message specified\n", code: 2},
	{name: "juju-log missing flag value", argv: []string{"juju-log", "-l"}, stderr: "ERROR option needs an argument: -l\n", code: 2},

	// status-set
	{name: "status-set ops3", argv: []string{"status-set", "--application=False", "maintenance", "--", "-installing"},
		check: func(t *testing.T, u *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "status", u.Status, hookcmds.StatusInfo{Status: "maintenance", Message: "-installing"})
			noChanges(t, u, ch)
		}},
	{name: "status-set ops2 application", argv: []string{"status-set", "--application=True", "blocked", "need db"},
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "app status", u.AppStatus.Application, hookcmds.StatusInfo{Status: "blocked", Message: "need db"})
		}},
	{name: "status-set shell interspersed", argv: []string{"status-set", "active", "--application=true"},
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "app status", u.AppStatus.Application.Status, "active")
		}},
	{name: "status-set invalid", argv: []string{"status-set", "error", "x"},
		stderr: "ERROR invalid status \"error\", expected one of [maintenance blocked waiting active]\n", code: 2},
	{name: "status-set no args", argv: []string{"status-set"}, stderr: "ERROR invalid args, require <status> [message]\n", code: 2},
	{name: "status-set too many", argv: []string{"status-set", "active", "a", "b"}, stderr: "ERROR unrecognized args: [\"b\"]\n", code: 2},
	{name: "status-set bad bool", argv: []string{"status-set", "--application=maybe", "active"},
		stderr: "ERROR invalid value \"maybe\" for option --application: invalid boolean value \"maybe\"\n", code: 2},
	{name: "status-set application non-leader", argv: []string{"status-set", "--application", "active"},
		setup:  func(u *hookcmdstest.Unit) { u.Leader = false },
		stderr: "ERROR this unit is not the leader\n", code: 1},
	{name: "status-set unknown flag", argv: []string{"status-set", "--app", "active"},
		stderr: "ERROR option provided but not defined: --app\n", code: 2},

	// status-get
	{name: "status-get smart", argv: []string{"status-get"}, stdout: "active\n"},
	{name: "status-get json", argv: []string{"status-get", "--format=json"}, stdout: "\"active\"\n"},
	{name: "status-get ops3", argv: []string{"status-get", "--include-data", "--format=json", "--application=false"},
		stdout: `{"message":"ready","status":"active","status-data":{"k":"v"}}` + "\n"},
	{name: "status-get ops2 application", argv: []string{"status-get", "--include-data", "--application=True", "--format=json"},
		stdout: `{"application-status":{"message":"app","status":"waiting","status-data":{},"units":{"wordpress/0":{"message":"ready","status":"active","status-data":{}}}}}` + "\n"},
	{name: "status-get yaml with data", argv: []string{"status-get", "--include-data"},
		stdout: "message: ready\nstatus: active\nstatus-data:\n  k: v\n"},
	{name: "status-get application non-leader", argv: []string{"status-get", "--application"},
		setup:  func(u *hookcmdstest.Unit) { u.Leader = false },
		stderr: "ERROR cannot get application status: this unit is not the leader\n", code: 1},
	{name: "status-get bad format", argv: []string{"status-get", "--format", "xml"},
		stderr: "ERROR invalid value \"xml\" for option --format: unknown format \"xml\"\n", code: 2},

	// application-version-set
	{name: "application-version-set", argv: []string{"application-version-set", "--", "-1.2"},
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "version", u.Version, "-1.2")
		}},
	{name: "application-version-set none", argv: []string{"application-version-set"}, stderr: "ERROR no version specified\n", code: 2},

	// config-get
	{name: "config-get json", argv: []string{"config-get", "--format=json"},
		stdout: `{"debug":false,"name":"blog","port":80,"ratio":0.5}` + "\n"},
	{name: "config-get smart", argv: []string{"config-get"}, stdout: "debug: false\nname: blog\nport: 80\nratio: 0.5\n"},
	{name: "config-get all", argv: []string{"config-get", "--all", "--format", "json"},
		stdout: `{"debug":false,"name":"blog","port":80,"ratio":0.5,"unset":null}` + "\n"},
	{name: "config-get key", argv: []string{"config-get", "name"}, stdout: "blog\n"},
	{name: "config-get bool smart", argv: []string{"config-get", "debug"}, stdout: "False\n"},
	{name: "config-get missing smart", argv: []string{"config-get", "nope"}, stdout: ""},
	{name: "config-get missing json", argv: []string{"config-get", "nope", "--format=json"}, stdout: "null\n"},
	{name: "config-get missing yaml", argv: []string{"config-get", "nope", "--format=yaml"}, stdout: ""},
	{name: "config-get key and all", argv: []string{"config-get", "-a", "name"}, stderr: "ERROR cannot use argument --all together with key \"name\"\n", code: 2},

	// leadership
	{name: "is-leader smart", argv: []string{"is-leader"}, stdout: "True\n"},
	{name: "is-leader json", argv: []string{"is-leader", "--format=json"}, stdout: "true\n"},
	{name: "is-leader false", argv: []string{"is-leader", "--format=json"}, setup: func(u *hookcmdstest.Unit) { u.Leader = false }, stdout: "false\n"},
	{name: "leader-get all", argv: []string{"leader-get"}, stdout: "a: \"1\"\nb: two\n"},
	{name: "leader-get key json", argv: []string{"leader-get", "b", "--format=json"}, stdout: "\"two\"\n"},
	{name: "leader-set", argv: []string{"leader-set", "a=", "c=3"},
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "leader data", u.LeaderData, map[string]string{"b": "two", "c": "3"})
		}},
	{name: "leader-set non-leader", argv: []string{"leader-set", "a=2"}, setup: func(u *hookcmdstest.Unit) { u.Leader = false },
		stderr: "ERROR cannot write leadership settings: this unit is not the leader\n", code: 1},
	{name: "leader-set bad pair", argv: []string{"leader-set", "a"}, stderr: "ERROR expected \"key=value\", got \"a\"\n", code: 2},

	// unit-get, network-get, goal-state, credential-get
	{name: "unit-get private", argv: []string{"unit-get", "private-address"}, stdout: "10.0.0.1\n"},
	{name: "unit-get json", argv: []string{"unit-get", "--format=json", "public-address"}, stdout: "\"1.2.3.4\"\n"},
	{name: "unit-get bad", argv: []string{"unit-get", "name"}, stderr: "ERROR unknown setting \"name\"\n", code: 2},
	{name: "network-get ops3", argv: []string{"network-get", "--format=json", "-r", "db:3", "db"},
		stdout: `{"bind-addresses":[{"addresses":[{"cidr":"10.0.0.0/24","hostname":"","value":"10.0.0.1"}],"interface-name":"eth0","mac-address":"00:11"}],"egress-subnets":["10.0.0.1/32"],"ingress-addresses":["10.0.0.1"]}` + "\n"},
	{name: "network-get ops2", argv: []string{"network-get", "db", "-r", "3", "--format=json"},
		stdout: `{"bind-addresses":[{"addresses":[{"cidr":"10.0.0.0/24","hostname":"","value":"10.0.0.1"}],"interface-name":"eth0","mac-address":"00:11"}],"egress-subnets":["10.0.0.1/32"],"ingress-addresses":["10.0.0.1"]}` + "\n"},
	{name: "network-get smart yaml", argv: []string{"network-get", "db"},
		stdout: "bind-addresses:\n- addresses:\n  - cidr: 10.0.0.0/24\n    hostname: \"\"\n    value: 10.0.0.1\n  interface-name: eth0\n  mac-address: \"00:11\"\negress-subnets:\n- 10.0.0.1/32\ningress-addresses:\n- 10.0.0.1\n"},
	{name: "network-get ingress", argv: []string{"network-get", "db", "--ingress-address"}, stdout: "10.0.0.1\n"},
	{name: "network-get egress", argv: []string{"network-get", "db", "--egress-subnets"}, stdout: "10.0.0.1/32\n"},
	{name: "network-get two flags", argv: []string{"network-get", "db", "--bind-address", "--ingress-address", "--format=json"},
		stdout: `{"bind-address":"10.0.0.1","ingress-address":"10.0.0.1"}` + "\n"},
	{name: "network-get unknown binding", argv: []string{"network-get", "nope"},
		stderr: "ERROR no network config found for binding \"nope\"\n", code: 1},
	{name: "network-get bad relation", argv: []string{"network-get", "db", "-r", "db:99"},
		stderr: "ERROR invalid value \"db:99\" for option -r: relation not found\n", code: 2},
	{name: "network-get no binding", argv: []string{"network-get"}, stderr: "ERROR no arguments specified\n", code: 2},
	{name: "goal-state json", argv: []string{"goal-state", "--format=json"},
		setup: func(u *hookcmdstest.Unit) {
			since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			u.Goal = hookcmds.GoalState{
				Units:     map[string]hookcmds.GoalStateStatus{"wordpress/0": {Status: "active", Since: &since}, "wordpress/1": {Status: "dying"}},
				Relations: map[string]map[string]hookcmds.GoalStateStatus{"db": {"mysql": {Status: "joined", Since: &since}}},
			}
		},
		stdout: `{"relations":{"db":{"mysql":{"since":"2025-01-01 00:00:00Z","status":"joined"}}},"units":{"wordpress/0":{"since":"2025-01-01 00:00:00Z","status":"active"},"wordpress/1":{"status":"dying"}}}` + "\n"},
	{name: "goal-state default yaml", argv: []string{"goal-state"}, stdout: "relations: {}\nunits: {}\n"},
	{name: "goal-state smart refused", argv: []string{"goal-state", "--format=smart"},
		stderr: "ERROR invalid value \"smart\" for option --format: unknown format \"smart\"\n", code: 2},
	{name: "credential-get untrusted", argv: []string{"credential-get", "--format=json"},
		stderr: "ERROR cannot access cloud credentials: application is not trusted; run \"juju trust <application>\"\n", code: 1},
	{name: "credential-get", argv: []string{"credential-get", "--format=json"},
		setup:  func(u *hookcmdstest.Unit) { u.Cloud = map[string]any{"type": "lxd", "name": "localhost"} },
		stdout: `{"name":"localhost","type":"lxd"}` + "\n"},

	// resource-get, juju-reboot
	{name: "resource-get", argv: []string{"resource-get", "image"}, stdout: "/var/lib/res/image.tar\n"},
	{name: "resource-get unknown", argv: []string{"resource-get", "nope"}, stderr: "ERROR resource \"nope\" not found\n", code: 1},
	{name: "resource-get none", argv: []string{"resource-get"}, stderr: "ERROR missing required resource name\n", code: 2},
	{name: "juju-reboot", argv: []string{"juju-reboot"},
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) {
			wantEqual(t, "reboot", u.Reboot, "after-hook")
		}},
	{name: "juju-reboot now", argv: []string{"juju-reboot", "--now"},
		check: func(t *testing.T, u *hookcmdstest.Unit, _ hookcmds.Changes) { wantEqual(t, "reboot", u.Reboot, "now") }},
	{name: "juju-reboot in action", argv: []string{"juju-reboot"},
		setup:  func(u *hookcmdstest.Unit) { u.Info.ActionName = "backup"; u.Action = &hookcmdstest.Action{} },
		stderr: "ERROR juju-reboot is not supported when running an action\n", code: 1},

	// unknown tool, help
	{name: "unknown tool", argv: []string{"nope"}, stderr: "ERROR bad request: unknown command: nope\n", code: 1},
	{name: "storage-get help shows default", argv: []string{"storage-get", "--help"},
		setup:  func(u *hookcmdstest.Unit) { u.Info.StorageID = "data/0" },
		stdout: "Usage: storage-get [-s ID] [<key>] [--format]\n\nOptions:\n--format  (= smart)\n    Specify output format (json|smart|yaml)\n-o, --output  (= \"\")\n    Specify an output file\n-s  (= data/0)\n    specify a storage instance by id\n"},
}

func TestUnitTools(t *testing.T) {
	for _, tc := range unitCases {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc) })
	}
}
