package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/storage"
	"github.com/troupe-dev/troupe/internal/store"
)

// The guardian is the only writer of storage instances (entity.StorageInstance):
// it creates them with their unit, records their attachment and detaches
// or destroys them with their unit.

// AttachStorage records that the unit's agent provisioned storage ID at
// Location; storage-attached may then run. Idempotent.
type AttachStorage struct {
	Unit     string
	ID       string
	Location string
}

// AddStorage is a committed storage-add: Counts more instances per
// storage name for Unit. Origin ("<stream>/<seq>") makes it idempotent.
type AddStorage struct {
	Unit   string
	Counts map[string]int
	Origin string
}

// ReleaseStorage detaches the storage of a unit. With Dead unset (the
// unit is being removed) the attachments become dying, and with Destroy
// the instances too; with Dead set (the unit is dead) dying instances are
// removed and the others left detached.
type ReleaseStorage struct {
	Unit    string
	Destroy bool
	Dead    bool
}

// StorageDone answers the storage messages.
type StorageDone struct{ IDs []string }

// newStorage makes the instances dirs give a new unit on machine,
// advancing next.NextStorage (copied, so the guardian's own model is
// untouched until the commit succeeds).
func (g *guardian) newStorage(next *ent.Model, unit, machine string, dirs map[string]ent.StorageDirective, origin string, now time.Time) ([]store.Op, error) {
	if len(dirs) == 0 {
		return nil, nil
	}
	next.NextStorage = maps.Clone(next.NextStorage)
	if next.NextStorage == nil {
		next.NextStorage = map[string]int{}
	}
	var ops []store.Op
	for _, name := range slices.Sorted(maps.Keys(dirs)) {
		d := dirs[name]
		for i := 0; i < d.Count; i++ {
			id := fmt.Sprintf("%s/%d", name, next.NextStorage[name])
			next.NextStorage[name]++
			si := &ent.StorageInstance{ID: id, Name: name, Kind: d.Kind, Pool: d.Pool, SizeMiB: d.SizeMiB, ReadOnly: d.ReadOnly,
				Life: ent.Alive, Status: ent.Status{Current: ent.StoragePending, Since: now},
				Unit: unit, Machine: machine, AttachmentLife: ent.Alive, Origin: origin, Filesystem: strconv.Itoa(next.NextFilesystem)}
			next.NextFilesystem++
			op, err := store.Put(ent.StorageKey(g.cfg.UUID, id), si)
			if err != nil {
				return nil, err
			}
			ops = append(ops, op)
		}
	}
	return ops, nil
}

type storageDoc struct{ si ent.StorageInstance }

// unitStorage lists the instances attached to unit.
func (g *guardian) unitStorage(ctx context.Context, unit string) ([]storageDoc, error) {
	kvs, _, err := g.cfg.Store.List(ctx, ent.StoragePrefix(g.cfg.UUID))
	if err != nil {
		return nil, err
	}
	var out []storageDoc
	for _, kv := range kvs {
		var si ent.StorageInstance
		if err := json.Unmarshal(kv.Value, &si); err != nil {
			g.logger().Warn("skipping unreadable storage document", "key", kv.Key, "err", err)
			continue
		}
		if si.Unit == unit {
			out = append(out, storageDoc{si})
		}
	}
	return out, nil
}

func (g *guardian) attachStorage(m *AttachStorage) (*StorageDone, error) {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := ent.StorageKey(g.cfg.UUID, m.ID)
	var si ent.StorageInstance
	_, err := g.cfg.Store.Get(c, key, &si)
	if errors.Is(err, store.ErrNotFound) || (err == nil && si.Unit != m.Unit) {
		return nil, fmt.Errorf("storage %q is not attached to unit %s", m.ID, m.Unit)
	}
	if err != nil {
		return nil, err
	}
	if si.Attached && si.Location == m.Location {
		return &StorageDone{IDs: []string{m.ID}}, nil
	}
	if si.AttachmentLife != ent.Alive {
		return nil, fmt.Errorf("storage %q is being detached from unit %s", m.ID, m.Unit)
	}
	si.Attached, si.Location = true, m.Location
	si.Status = ent.Status{Current: ent.StorageAttached, Since: time.Now()}
	op, err := store.Put(key, &si)
	if err != nil {
		return nil, err
	}
	if _, err := g.cfg.Store.Commit(c, op); err != nil {
		return nil, fmt.Errorf("cannot record storage %q attached: %w", m.ID, err)
	}
	return &StorageDone{IDs: []string{m.ID}}, nil
}

func (g *guardian) addStorage(m *AddStorage) (*StorageDone, error) {
	if err := g.errDying(); err != nil {
		return nil, err
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var u ent.Unit
	ukey := ent.UnitKey(g.cfg.UUID, m.Unit)
	urev, err := g.cfg.Store.Get(c, ukey, &u)
	if err != nil {
		return nil, fmt.Errorf("cannot add storage to unit %s: %w", m.Unit, err)
	}
	if u.Life != ent.Alive {
		return nil, fmt.Errorf("cannot add storage to unit %s: it is %s", m.Unit, u.Life)
	}
	var app ent.Application
	if _, err := g.cfg.Store.Get(c, ent.ApplicationKey(g.cfg.UUID, u.Application), &app); err != nil {
		return nil, fmt.Errorf("cannot add storage to unit %s: %w", m.Unit, err)
	}
	have, err := g.unitStorage(c, m.Unit)
	if err != nil {
		return nil, err
	}
	for _, d := range have {
		if m.Origin != "" && d.si.Origin == m.Origin {
			return &StorageDone{}, nil // applied before
		}
	}
	add := map[string]ent.StorageDirective{}
	for _, name := range slices.Sorted(maps.Keys(m.Counts)) {
		n := 0
		for _, d := range have {
			if d.si.Name == name {
				n++
			}
		}
		d, err := storage.CheckAdd(app.Storage, name, n, m.Counts[name])
		if err != nil {
			return nil, err
		}
		d.Count = m.Counts[name]
		add[name] = d
	}
	next := *g.model
	ops, err := g.newStorage(&next, m.Unit, u.Machine, add, m.Origin, time.Now())
	if err != nil {
		return nil, err
	}
	mop, err := store.Put(ent.ModelKey(g.cfg.UUID), &next)
	if err != nil {
		return nil, err
	}
	if _, err := g.cfg.Store.CommitIf(c, []store.Cond{store.Unchanged(ukey, urev)}, append(ops, mop)...); err != nil {
		return nil, fmt.Errorf("cannot add storage to unit %s: %w", m.Unit, err)
	}
	g.model = &next
	res := &StorageDone{}
	for _, name := range slices.Sorted(maps.Keys(add)) {
		for i := next.NextStorage[name] - add[name].Count; i < next.NextStorage[name]; i++ {
			res.IDs = append(res.IDs, fmt.Sprintf("%s/%d", name, i))
		}
	}
	return res, nil
}

func (g *guardian) releaseStorage(m *ReleaseStorage) (*StorageDone, error) {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	have, err := g.unitStorage(c, m.Unit)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	// The guardian is the only writer of these documents, so no
	// condition is needed.
	var ops []store.Op
	res := &StorageDone{}
	for _, d := range have {
		key := ent.StorageKey(g.cfg.UUID, d.si.ID)
		si := d.si
		switch {
		case m.Dead && si.Life != ent.Alive:
			ops = append(ops, store.Delete(key))
		case m.Dead:
			si.Unit, si.Machine, si.AttachmentLife, si.Attached, si.Location = "", "", "", false, ""
			si.Status = ent.Status{Current: ent.StorageDetached, Since: now}
		default:
			if si.AttachmentLife == ent.Dying && (!m.Destroy || si.Life == ent.Dying) {
				continue
			}
			si.AttachmentLife = ent.Dying
			si.Status = ent.Status{Current: ent.StorageDetaching, Since: now}
			if m.Destroy {
				si.Life = ent.Dying
			}
		}
		if !(m.Dead && d.si.Life != ent.Alive) {
			op, err := store.Put(key, &si)
			if err != nil {
				return nil, err
			}
			ops = append(ops, op)
		}
		res.IDs = append(res.IDs, si.ID)
	}
	if len(ops) == 0 {
		return res, nil
	}
	if _, err := g.cfg.Store.Commit(c, ops...); err != nil {
		return nil, fmt.Errorf("cannot release the storage of unit %s: %w", m.Unit, err)
	}
	return res, nil
}
