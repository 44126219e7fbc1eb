package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/storage"
	"github.com/troupe-dev/troupe/internal/store"
)

// AttachStorage implements apipb.ControllerServer: the unit's agent
// provisioned one of its own storage instances at a location.
func (s *Server) AttachStorage(ctx context.Context, req *apipb.AttachStorageRequest) (*apipb.AttachStorageResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	if !storage.ValidID(req.Id) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid storage id %q: expected <name>/<number>", req.Id)
	}
	if req.Location == "" {
		return nil, status.Error(codes.InvalidArgument, "no storage location given")
	}
	if _, err := ask[*model.StorageDone](s, tag.Model, &model.AttachStorage{Unit: req.Unit, ID: req.Id, Location: req.Location}); err != nil {
		return nil, invalid(err)
	}
	return &apipb.AttachStorageResult{}, nil
}

// unitStorageSnapshot lists the storage attached to unit for its snapshot.
func (s *Server) unitStorageSnapshot(ctx context.Context, modelUUID, unit string) ([]*apipb.StorageSnapshot, error) {
	kvs, _, err := s.cfg.Store.List(ctx, entity.StoragePrefix(modelUUID))
	if err != nil {
		return nil, err
	}
	var out []*apipb.StorageSnapshot
	for _, kv := range kvs {
		var si entity.StorageInstance
		if err := json.Unmarshal(kv.Value, &si); err != nil || si.Unit != unit {
			continue
		}
		out = append(out, &apipb.StorageSnapshot{Id: si.ID, Kind: si.Kind, Location: si.Location, Attached: si.Attached,
			Life: string(si.AttachmentLife), SizeMib: si.SizeMiB, ReadOnly: si.ReadOnly})
	}
	return out, nil
}

// appendStorageStatus adds one storage document to status; an unreadable
// one is shown in error rather than hiding the model.
func appendStorageStatus(out []*apipb.StorageStatus, kv store.KV) []*apipb.StorageStatus {
	var si entity.StorageInstance
	if err := json.Unmarshal(kv.Value, &si); err != nil {
		_, id, _ := strings.Cut(kv.Key, "/storage/")
		return append(out, &apipb.StorageStatus{Id: id, Kind: "unknown", Life: string(entity.Alive),
			Status: &apipb.StatusInfo{Current: "error", Message: fmt.Sprintf("cannot decode storage document: %v", err)}})
	}
	return append(out, &apipb.StorageStatus{Id: si.ID, Kind: si.Kind, Pool: si.Pool, SizeMib: si.SizeMiB,
		Life: string(si.Life), Status: statusInfo(si.Status), Unit: si.Unit, Machine: si.Machine,
		Location: si.Location, AttachmentLife: string(si.AttachmentLife), ReadOnly: si.ReadOnly, Filesystem: si.Filesystem})
}

// commitAddStorage applies a hook's storage-add, once per (stream, seq).
func (s *Server) commitAddStorage(tag entity.Tag, req *apipb.CommitHookRequest) error {
	if len(req.AddStorage) == 0 {
		return nil
	}
	counts := map[string]int{}
	for _, name := range slices.Sorted(maps.Keys(req.AddStorage)) {
		counts[name] = int(req.AddStorage[name])
	}
	origin := ""
	if req.Seq != 0 {
		origin = req.Stream + "/" + strconv.FormatUint(req.Seq, 10)
	}
	// The agent checked the request against the charm when the tool ran;
	// one refused here (the unit went dying meanwhile) is logged and
	// dropped, so it cannot block the agent's outbox.
	if _, err := ask[*model.StorageDone](s, tag.Model, &model.AddStorage{Unit: req.Unit, Counts: counts, Origin: origin}); err != nil {
		s.logger().Warn("storage-add not applied", "unit", req.Unit, "hook", req.Hook, "err", err)
	}
	return nil
}

// releaseApplicationStorage starts detaching (with destroy: destroying)
// the storage of every unit of an application being removed.
func (s *Server) releaseApplicationStorage(ctx context.Context, modelUUID, app string, destroy bool) error {
	kvs, _, err := s.cfg.Store.List(ctx, entity.UnitsPrefix(modelUUID, app))
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		var u entity.Unit
		if err := json.Unmarshal(kv.Value, &u); err != nil || u.Life == entity.Dead {
			continue
		}
		if _, err := ask[*model.StorageDone](s, modelUUID, &model.ReleaseStorage{Unit: u.Name, Destroy: destroy}); err != nil {
			return fmt.Errorf("cannot release the storage of unit %s: %w", u.Name, err)
		}
	}
	return nil
}
