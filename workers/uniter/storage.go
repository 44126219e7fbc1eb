package uniter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/internal/storage"
	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// machineDir is the machine agent's data dir, under which the local
// provider keeps the unit's storage (internal/storage.LocalDir).
func (u *Uniter) machineDir() string {
	if u.cfg.MachineDir != "" {
		return u.cfg.MachineDir
	}
	return filepath.Dir(filepath.Dir(u.cfg.UnitDir)) // <machine>/agents/unit-x-n
}

// provisionStorage makes each of the unit's storage instances not yet
// attached (a directory, the local provider's filesystem storage) and
// reports it attached, so storage-attached may run. It returns how many
// it reported; the caller then re-reads its snapshot.
func (u *Uniter) provisionStorage(ctx context.Context, snap *apipb.UnitSnapshotResult) (int, error) {
	n := 0
	for _, st := range snap.Storage {
		if st.Attached || resolver.Life(st.Life) != resolver.Alive {
			continue
		}
		if st.Kind != string(charm.StorageFilesystem) {
			return n, fmt.Errorf("cannot provision storage %s: %s storage is not supported by the local provider", st.Id, st.Kind)
		}
		dir := storage.LocalDir(u.machineDir(), st.Id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return n, fmt.Errorf("cannot provision storage %s: %w", st.Id, err)
		}
		if _, err := u.cfg.API.AttachStorage(ctx, &apipb.AttachStorageRequest{Unit: u.cfg.Unit, Id: st.Id, Location: dir}); err != nil {
			return n, fmt.Errorf("cannot report storage %s attached: %w", st.Id, err)
		}
		u.cfg.Logger.Info("storage provisioned", "unit", u.cfg.Unit, "storage", st.Id, "location", dir)
		n++
	}
	return n, nil
}

// remoteStorage is the resolver's view of the snapshot's storage.
func remoteStorage(snap *apipb.UnitSnapshotResult) map[string]resolver.StorageSnapshot {
	if len(snap.Storage) == 0 {
		return nil
	}
	out := make(map[string]resolver.StorageSnapshot, len(snap.Storage))
	for _, st := range snap.Storage {
		out[st.Id] = resolver.StorageSnapshot{Life: resolver.Life(st.Life), Attached: st.Attached}
	}
	return out
}

func findStorage(snap *apipb.UnitSnapshotResult, id string) *apipb.StorageSnapshot {
	for _, st := range snap.Storage {
		if st.Id == id {
			return st
		}
	}
	return nil
}

// storageEnv adds JUJU_STORAGE_LOCATION and JUJU_STORAGE_KIND to a
// storage hook's environment.
func storageEnv(snap *apipb.UnitSnapshotResult, id string, vars map[string]string) {
	if st := findStorage(snap, id); st != nil {
		vars["JUJU_STORAGE_LOCATION"], vars["JUJU_STORAGE_KIND"] = st.Location, st.Kind
	}
}

// --- hookcmds.Backend: storage ---------------------------------------------

// StorageIDs lists the unit's attached storage (storage-list).
func (b *backend) StorageIDs() ([]string, error) {
	var out []string
	for _, st := range b.snap.Storage {
		if st.Attached {
			out = append(out, st.Id)
		}
	}
	sort.Strings(out)
	return out, nil
}

// StorageAttachment is storage-get.
func (b *backend) StorageAttachment(id string) (hookcmds.StorageAttachment, error) {
	st := findStorage(b.snap, id)
	if st == nil || !st.Attached {
		return hookcmds.StorageAttachment{}, hookcmds.ErrStorageNotFound
	}
	return hookcmds.StorageAttachment{Kind: st.Kind, Location: st.Location}, nil
}

// CheckAddStorage refuses a storage-add the charm does not allow: an
// undeclared name, block storage, or more than the charm's maximum.
func (b *backend) CheckAddStorage(name string, count int) error {
	data, err := os.ReadFile(filepath.Join(b.u.charmDir(), "metadata.yaml"))
	if err != nil {
		return fmt.Errorf("cannot read the charm's metadata: %w", err)
	}
	meta, err := charm.ParseMeta(data)
	if err != nil {
		return fmt.Errorf("cannot read the charm's metadata: %w", err)
	}
	st, ok := meta.Storage[name]
	if !ok {
		return fmt.Errorf("charm storage %q not found", name)
	}
	if st.Type != charm.StorageFilesystem {
		return fmt.Errorf("%s storage is not supported by the local provider", st.Type)
	}
	have := 0
	for _, s := range b.snap.Storage {
		if hook.StorageName(s.Id) == name {
			have++
		}
	}
	if st.CountMax >= 0 && have+count > st.CountMax {
		return fmt.Errorf("%d more would make %d, above the charm's maximum %d", count, have+count, st.CountMax)
	}
	return nil
}
