package hookcmds_test

import (
	"testing"

	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/internal/hookcmds/hookcmdstest"
)

// storageCases are the storage tools' golden cases beyond
// storageStateCases: each argv form ops 2.x and 3.x use (contract §4.3),
// the shell forms and the refusals. newUnit has data/0 (filesystem at
// /srv/data) and logs/1 (block at /dev/sdb).
var storageCases = []toolCase{
	// ops 3.x: storage-list NAME --format=json; storage-get -s ID ATTR --format=json.
	{name: "ops3 list by name", argv: []string{"storage-list", "data", "--format=json"}, stdout: `["data/0"]` + "\n"},
	{name: "ops3 get kind", argv: []string{"storage-get", "-s", "data/0", "kind", "--format=json"}, stdout: "\"filesystem\"\n"},
	{name: "ops3 get location", argv: []string{"storage-get", "-s", "data/0", "location", "--format=json"}, stdout: "\"/srv/data\"\n"},
	// ops 2.x: storage-list --format=json NAME; storage-get --format=json -s NAME/IDX.
	{name: "ops2 list", argv: []string{"storage-list", "--format=json", "logs"}, stdout: `["logs/1"]` + "\n"},
	{name: "ops2 get all", argv: []string{"storage-get", "--format=json", "-s", "logs/1"}, stdout: `{"kind":"block","location":"/dev/sdb"}` + "\n"},
	{name: "list all json", argv: []string{"storage-list", "--format=json"}, stdout: `["data/0","logs/1"]` + "\n"},
	{name: "list unknown name is empty", argv: []string{"storage-list", "--format=json", "nosuch"}, stdout: "[]\n"},
	{name: "list none smart", argv: []string{"storage-list", "nosuch"}, stdout: ""},
	{name: "get yaml", argv: []string{"storage-get", "--format=yaml", "-s", "data/0"}, stdout: "kind: filesystem\nlocation: /srv/data\n"},
	{name: "get smart map", argv: []string{"storage-get", "-s", "data/0"}, stdout: "kind: filesystem\nlocation: /srv/data\n"},
	{name: "get hook's storage, interspersed", argv: []string{"storage-get", "location", "--format", "json"},
		setup: func(u *hookcmdstest.Unit) { u.Info.StorageID = "data/0" }, stdout: "\"/srv/data\"\n"},
	{name: "get -s overrides the hook's", argv: []string{"storage-get", "kind", "-s", "logs/1"},
		setup: func(u *hookcmdstest.Unit) { u.Info.StorageID = "data/0" }, stdout: "block\n"},
	{name: "get bad key", argv: []string{"storage-get", "-s", "data/0", "size"}, stderr: "ERROR invalid storage attribute \"size\"\n", code: 1},
	{name: "get bad id", argv: []string{"storage-get", "-s", "data"}, stderr: "ERROR invalid value \"data\" for option -s: invalid storage ID \"data\"\n", code: 2},
	{name: "get too many args", argv: []string{"storage-get", "-s", "data/0", "kind", "location"}, stderr: "ERROR unrecognized args: [\"location\"]\n", code: 2},
	{name: "add several", argv: []string{"storage-add", "data=2", "data", "logs=1"},
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "storage", ch.AddStorage, map[string]int{"data": 3, "logs": 1})
		}},
	{name: "add nothing", argv: []string{"storage-add"}, stderr: "ERROR storage add requires a storage directive\n", code: 2},
	{name: "add zero", argv: []string{"storage-add", "data=0"}, stderr: "ERROR only count can be specified for \"data\"\n", code: 2},
	{name: "add unknown storage refused at call time", argv: []string{"storage-add", "nosuch=1"},
		setup:  func(u *hookcmdstest.Unit) { u.StorageMax = map[string]int{"data": 3} },
		stderr: "ERROR cannot add storage \"nosuch\": charm storage \"nosuch\" not found\n", code: 1,
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			if len(ch.AddStorage) != 0 {
				t.Errorf("refused storage-add was buffered: %v", ch.AddStorage)
			}
		}},
	{name: "add above maximum refused", argv: []string{"storage-add", "data=3"},
		setup:  func(u *hookcmdstest.Unit) { u.StorageMax = map[string]int{"data": 3} },
		stderr: "ERROR cannot add storage \"data\": 3 more would make 4, above the charm's maximum 3\n", code: 1},
	{name: "add up to maximum", argv: []string{"storage-add", "data=2"},
		setup: func(u *hookcmdstest.Unit) { u.StorageMax = map[string]int{"data": 3} },
		check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
			wantEqual(t, "storage", ch.AddStorage, map[string]int{"data": 2})
		}},
}

func TestStorageTools(t *testing.T) {
	for _, tc := range storageCases {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc) })
	}
}
