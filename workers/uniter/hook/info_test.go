package hook_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

func TestNameAndEnv(t *testing.T) {
	tests := []struct {
		info hook.Info
		name string
		env  map[string]string
	}{{
		info: hook.Info{Kind: hook.Install},
		name: "install",
		env:  map[string]string{},
	}, {
		info: hook.Info{Kind: hook.RelationCreated, RelationID: 0, Endpoint: "db", RemoteApp: "mysql"},
		name: "db-relation-created",
		env: map[string]string{
			"JUJU_RELATION": "db", "JUJU_RELATION_ID": "db:0",
			"JUJU_REMOTE_UNIT": "", "JUJU_REMOTE_APP": "mysql",
		},
	}, {
		info: hook.Info{Kind: hook.RelationChanged, RelationID: 7, Endpoint: "db", RemoteApp: "mysql"},
		name: "db-relation-changed",
		env: map[string]string{
			"JUJU_RELATION": "db", "JUJU_RELATION_ID": "db:7",
			"JUJU_REMOTE_UNIT": "", "JUJU_REMOTE_APP": "mysql",
		},
	}, {
		info: hook.Info{Kind: hook.RelationJoined, RelationID: 7, Endpoint: "db", RemoteUnit: "mysql/1", RemoteApp: "mysql"},
		name: "db-relation-joined",
		env: map[string]string{
			"JUJU_RELATION": "db", "JUJU_RELATION_ID": "db:7",
			"JUJU_REMOTE_UNIT": "mysql/1", "JUJU_REMOTE_APP": "mysql",
		},
	}, {
		info: hook.Info{Kind: hook.RelationDeparted, RelationID: 7, Endpoint: "db", RemoteUnit: "mysql/1", RemoteApp: "mysql", DepartingUnit: "wp/0"},
		name: "db-relation-departed",
		env: map[string]string{
			"JUJU_RELATION": "db", "JUJU_RELATION_ID": "db:7",
			"JUJU_REMOTE_UNIT": "mysql/1", "JUJU_REMOTE_APP": "mysql",
			"JUJU_DEPARTING_UNIT": "wp/0",
		},
	}, {
		info: hook.Info{Kind: hook.StorageAttached, StorageID: "data/3"},
		name: "data-storage-attached",
		env:  map[string]string{"JUJU_STORAGE_ID": "data/3"},
	}, {
		info: hook.Info{Kind: hook.PebbleReady, WorkloadName: "web"},
		name: "web-pebble-ready",
		env:  map[string]string{"JUJU_WORKLOAD_NAME": "web"},
	}, {
		info: hook.Info{Kind: hook.PebbleCustomNotice, WorkloadName: "web", NoticeID: "12", NoticeType: "custom", NoticeKey: "example.com/x"},
		name: "web-pebble-custom-notice",
		env: map[string]string{
			"JUJU_WORKLOAD_NAME": "web", "JUJU_NOTICE_ID": "12",
			"JUJU_NOTICE_TYPE": "custom", "JUJU_NOTICE_KEY": "example.com/x",
		},
	}, {
		info: hook.Info{Kind: hook.PebbleCheckFailed, WorkloadName: "web", CheckName: "http"},
		name: "web-pebble-check-failed",
		env:  map[string]string{"JUJU_WORKLOAD_NAME": "web", "JUJU_PEBBLE_CHECK_NAME": "http"},
	}, {
		info: hook.Info{Kind: hook.SecretChanged, SecretURI: "secret:abc", SecretLabel: "db-pass"},
		name: "secret-changed",
		env:  map[string]string{"JUJU_SECRET_ID": "secret:abc", "JUJU_SECRET_LABEL": "db-pass"},
	}, {
		info: hook.Info{Kind: hook.SecretRemove, SecretURI: "secret:abc", SecretRevision: 4},
		name: "secret-remove",
		env:  map[string]string{"JUJU_SECRET_ID": "secret:abc", "JUJU_SECRET_LABEL": "", "JUJU_SECRET_REVISION": "4"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.info.Validate(); err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if got := tt.info.Name(); got != tt.name {
				t.Errorf("Name() = %q, want %q", got, tt.name)
			}
			if got := tt.info.Env(); !maps.Equal(got, tt.env) {
				t.Errorf("Env() = %v, want %v", got, tt.env)
			}
			if _, ok := tt.info.Env()["JUJU_REMOTE_UNIT"]; ok != tt.info.Kind.IsRelation() {
				t.Errorf("JUJU_REMOTE_UNIT present = %v, want %v", ok, tt.info.Kind.IsRelation())
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		info hook.Info
		want string
	}{
		{hook.Info{Kind: "frobnicate"}, "unknown hook kind"},
		{hook.Info{Kind: hook.Install, Endpoint: "db"}, "relation fields set on a non-relation hook"},
		{hook.Info{Kind: hook.Start, WorkloadName: "web"}, "workload fields set"},
		{hook.Info{Kind: hook.Start, SecretURI: "secret:x"}, "secret fields set"},
		{hook.Info{Kind: hook.Start, StorageID: "data/0"}, "storage id set"},
		{hook.Info{Kind: hook.RelationChanged, RemoteApp: "mysql"}, "endpoint is empty"},
		{hook.Info{Kind: hook.RelationChanged, Endpoint: "db"}, "remote application is empty"},
		{hook.Info{Kind: hook.RelationChanged, Endpoint: "db", RemoteApp: "mysql", RelationID: -1}, "negative"},
		{hook.Info{Kind: hook.RelationJoined, Endpoint: "db", RemoteApp: "mysql"}, "remote unit is empty"},
		{hook.Info{Kind: hook.RelationJoined, Endpoint: "db", RemoteApp: "mysql", RemoteUnit: "pg/0"}, "not a unit of"},
		{hook.Info{Kind: hook.RelationCreated, Endpoint: "db", RemoteApp: "mysql", RemoteUnit: "mysql/0"}, "remote unit must be empty"},
		{hook.Info{Kind: hook.RelationDeparted, Endpoint: "db", RemoteApp: "mysql", RemoteUnit: "mysql/0"}, "departing unit are required"},
		{hook.Info{Kind: hook.RelationChanged, Endpoint: "db", RemoteApp: "mysql", RemoteUnit: "mysql/0", DepartingUnit: "mysql/0"}, "departing unit set"},
		{hook.Info{Kind: hook.StorageAttached, StorageID: "data"}, "not of the form"},
		{hook.Info{Kind: hook.StorageAttached, StorageID: "data/x"}, "not of the form"},
		{hook.Info{Kind: hook.PebbleReady}, "workload name is empty"},
		{hook.Info{Kind: hook.PebbleReady, WorkloadName: "w", NoticeID: "1"}, "notice fields set"},
		{hook.Info{Kind: hook.PebbleCustomNotice, WorkloadName: "w", NoticeID: "1"}, "notice id, type and key are required"},
		{hook.Info{Kind: hook.PebbleCheckRecovered, WorkloadName: "w"}, "check name is empty"},
		{hook.Info{Kind: hook.PebbleReady, WorkloadName: "w", CheckName: "c"}, "check name set"},
		{hook.Info{Kind: hook.SecretChanged}, "secret uri is empty"},
		{hook.Info{Kind: hook.SecretExpired, SecretURI: "secret:x"}, "revision must be positive"},
		{hook.Info{Kind: hook.SecretChanged, SecretURI: "secret:x", SecretRevision: 2}, "revision set"},
	}
	for _, tt := range tests {
		err := tt.info.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want error containing %q", tt.info, err, tt.want)
		}
	}
}

func TestKindClassification(t *testing.T) {
	for _, k := range []hook.Kind{hook.Install, hook.LeaderDeposed, hook.RelationBroken, hook.StorageDetaching,
		hook.PebbleCheckRecovered, hook.SecretRotate, hook.PostSeriesUpgrade} {
		if !k.Valid() {
			t.Errorf("%q.Valid() = false", k)
		}
	}
	if hook.Kind("db-relation-changed").Valid() {
		t.Errorf("a hook name with an endpoint prefix must not be a valid kind")
	}
	n := 0
	for _, k := range []hook.Kind{hook.RelationChanged, hook.StorageAttached, hook.PebbleReady, hook.SecretChanged} {
		for _, is := range []bool{k.IsRelation(), k.IsStorage(), k.IsWorkload(), k.IsSecret()} {
			if is {
				n++
			}
		}
	}
	if n != 4 {
		t.Errorf("each kind must be in exactly one family; got %d memberships for 4 kinds", n)
	}
}

func TestString(t *testing.T) {
	i := hook.Info{Kind: hook.RelationDeparted, RelationID: 3, Endpoint: "db", RemoteUnit: "mysql/0", RemoteApp: "mysql", DepartingUnit: "wp/1"}
	want := `db-relation-departed (db:3, remote unit "mysql/0", departing unit "wp/1")`
	if got := i.String(); got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}
