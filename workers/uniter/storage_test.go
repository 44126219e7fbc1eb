package uniter

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// TestStorageBackend: the hook tools see the snapshot's attached storage
// only; storage-add is checked against the deployed charm's metadata; the
// resolver gets each attachment's life and whether it is provisioned.
func TestStorageBackend(t *testing.T) {
	unitDir := filepath.Join(t.TempDir(), "machine-0", "agents", "unit-s-0")
	if err := os.MkdirAll(filepath.Join(unitDir, "charm"), 0o755); err != nil {
		t.Fatal(err)
	}
	meta := "name: s\nstorage:\n  data:\n    type: filesystem\n    multiple:\n      range: 1-2\n  disk:\n    type: block\n    multiple:\n      range: 0-1\n"
	if err := os.WriteFile(filepath.Join(unitDir, "charm", "metadata.yaml"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	u := &Uniter{cfg: Config{UnitDir: unitDir}}
	if got, want := u.machineDir(), filepath.Join(filepath.Dir(unitDir), ".."); filepath.Clean(want) != got {
		t.Errorf("machineDir = %s, want %s", got, want)
	}
	snap := &apipb.UnitSnapshotResult{Storage: []*apipb.StorageSnapshot{
		{Id: "data/1", Kind: "filesystem", Location: "/m/storage/data-1", Attached: true, Life: "alive"},
		{Id: "data/0", Kind: "filesystem", Location: "/m/storage/data-0", Attached: true, Life: "dying"},
		{Id: "data/7", Kind: "filesystem", Life: "alive"},
	}}
	b := &backend{u: u, snap: snap}
	if ids, _ := b.StorageIDs(); !reflect.DeepEqual(ids, []string{"data/0", "data/1"}) {
		t.Errorf("StorageIDs = %v, want the attached ones", ids)
	}
	if a, err := b.StorageAttachment("data/1"); err != nil || a != (hookcmds.StorageAttachment{Kind: "filesystem", Location: "/m/storage/data-1"}) {
		t.Errorf("StorageAttachment(data/1) = %+v, %v", a, err)
	}
	if _, err := b.StorageAttachment("data/7"); !errors.Is(err, hookcmds.ErrStorageNotFound) {
		t.Errorf("a pending instance is visible: %v", err)
	}
	for _, c := range []struct {
		name  string
		count int
		err   string
	}{
		{"data", 1, "above the charm's maximum 2"}, // three instances already
		{"nosuch", 1, `charm storage "nosuch" not found`},
		{"disk", 1, "block storage is not supported"},
	} {
		if err := b.CheckAddStorage(c.name, c.count); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("CheckAddStorage(%s, %d) = %v, want %q", c.name, c.count, err, c.err)
		}
	}
	b.snap = &apipb.UnitSnapshotResult{Storage: snap.Storage[:1]}
	if err := b.CheckAddStorage("data", 1); err != nil {
		t.Errorf("CheckAddStorage within the range: %v", err)
	}
	want := map[string]resolver.StorageSnapshot{
		"data/1": {Life: resolver.Alive, Attached: true}, "data/0": {Life: resolver.Dying, Attached: true}, "data/7": {Life: resolver.Alive},
	}
	if got := remoteStorage(snap); !reflect.DeepEqual(got, want) {
		t.Errorf("remoteStorage = %+v, want %+v", got, want)
	}
	vars := map[string]string{}
	storageEnv(snap, "data/1", vars)
	if vars["JUJU_STORAGE_LOCATION"] != "/m/storage/data-1" || vars["JUJU_STORAGE_KIND"] != "filesystem" {
		t.Errorf("storage env: %v", vars)
	}
}
