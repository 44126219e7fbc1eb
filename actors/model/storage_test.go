package model_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/unit"
	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

func listStorage(t *testing.T, s *store.Store) map[string]ent.StorageInstance {
	t.Helper()
	kvs, _, err := s.List(context.Background(), ent.StoragePrefix(uuid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ent.StorageInstance{}
	for _, kv := range kvs {
		var si ent.StorageInstance
		if err := json.Unmarshal(kv.Value, &si); err != nil {
			t.Fatal(err)
		}
		out[si.ID] = si
	}
	return out
}

func ids(m map[string]ent.StorageInstance) string {
	var out []string
	for id, si := range m {
		out = append(out, id+"@"+si.Unit+":"+si.Status.Current)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestStorageLifecycle: the guardian creates each unit's instances with
// it (deploy, add-unit), numbers them per storage name, records their
// attachment, applies a storage-add once per commit, and on removal
// leaves them detached or, destroyed, removes them.
func TestStorageLifecycle(t *testing.T) {
	s, root, pid := guardian(t)
	d := deploy("a", 2)
	d.App.Storage = map[string]ent.StorageDirective{
		"data": {Kind: "filesystem", Pool: "rootfs", SizeMiB: 2048, Count: 1, CountMax: 3},
		"logs": {Kind: "filesystem", Pool: "rootfs", SizeMiB: 1024, Count: 0, CountMax: -1},
	}
	if _, err := ask[*model.Deployed](t, root, pid, d); err != nil {
		t.Fatal(err)
	}
	if _, err := ask[*model.UnitsAdded](t, root, pid, &model.AddUnits{App: "a", NumUnits: 1}); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(listStorage(t, s)), "data/0@a/0:pending data/1@a/1:pending data/2@a/2:pending"; got != want {
		t.Fatalf("instances after deploy and add-unit: %s, want %s", got, want)
	}
	if si := listStorage(t, s)["data/2"]; si.SizeMiB != 2048 || si.Machine != unitMachine(t, s, "a/2") || si.Filesystem != "2" || si.AttachmentLife != ent.Alive {
		t.Errorf("data/2: %+v", si)
	}

	if _, err := ask[*model.StorageDone](t, root, pid, &model.AttachStorage{Unit: "a/1", ID: "data/0", Location: "/x"}); err == nil {
		t.Errorf("a/1 attached a/0's storage")
	}
	if _, err := ask[*model.StorageDone](t, root, pid, &model.AttachStorage{Unit: "a/0", ID: "data/0", Location: "/m/0/storage/data-0"}); err != nil {
		t.Fatal(err)
	}
	if si := listStorage(t, s)["data/0"]; !si.Attached || si.Location != "/m/0/storage/data-0" || si.Status.Current != ent.StorageAttached {
		t.Errorf("data/0 after attach: %+v", si)
	}

	add := &model.AddStorage{Unit: "a/0", Counts: map[string]int{"data": 1, "logs": 2}, Origin: "s/4"}
	res, err := ask[*model.StorageDone](t, root, pid, add)
	if err != nil || !reflect.DeepEqual(res.IDs, []string{"data/3", "logs/0", "logs/1"}) {
		t.Fatalf("storage-add: %+v %v", res, err)
	}
	if res, err := ask[*model.StorageDone](t, root, pid, add); err != nil || len(res.IDs) != 0 {
		t.Errorf("re-delivered storage-add: %+v %v, want nothing added", res, err)
	}
	if _, err := ask[*model.StorageDone](t, root, pid, &model.AddStorage{Unit: "a/0", Counts: map[string]int{"data": 2}, Origin: "s/5"}); err == nil || !strings.Contains(err.Error(), "maximum 3") {
		t.Errorf("storage-add above the maximum: %v", err)
	}

	// a/1 removed keeping its storage, a/0 destroying it.
	if _, err := ask[*model.StorageDone](t, root, pid, &model.ReleaseStorage{Unit: "a/1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ask[*model.StorageDone](t, root, pid, &model.ReleaseStorage{Unit: "a/0", Destroy: true}); err != nil {
		t.Fatal(err)
	}
	st := listStorage(t, s)
	if si := st["data/1"]; si.AttachmentLife != ent.Dying || si.Life != ent.Alive || si.Status.Current != ent.StorageDetaching {
		t.Errorf("data/1 while a/1 is removed: %+v", si)
	}
	if si := st["data/0"]; si.AttachmentLife != ent.Dying || si.Life != ent.Dying {
		t.Errorf("data/0 while a/0 is removed with its storage: %+v", si)
	}
	for _, u := range []string{"a/0", "a/1"} {
		if _, err := ask[*unit.Done](t, root, pid, &model.Route{Kind: model.KindUnit, ID: u, Msg: &unit.Destroy{}}); err != nil {
			t.Fatal(err)
		}
		if _, err := ask[*model.StorageDone](t, root, pid, &model.ReleaseStorage{Unit: u, Dead: true}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := ids(listStorage(t, s)), "data/1@:detached data/2@a/2:pending"; got != want {
		t.Errorf("instances after the removals: %s, want %s", got, want)
	}
	if _, err := ask[*model.StorageDone](t, root, pid, &model.AddStorage{Unit: "a/0", Counts: map[string]int{"data": 1}}); err == nil {
		t.Errorf("storage-add for a dying unit was applied")
	}
}
