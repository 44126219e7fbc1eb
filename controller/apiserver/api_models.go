package apiserver

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/actors/unit"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// DestroyModel implements apipb.ControllerServer. The model's guardian
// marks it dying; the cleaner then destroys its applications and machines
// and removes the model once they are all dead. With force, units whose
// hooks are in error are made dead at once (they cannot run their
// tear-down hooks until someone resolves them).
func (s *Server) DestroyModel(ctx context.Context, req *apipb.DestroyModelRequest) (*apipb.DestroyModelResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	if req.Model == "" {
		return nil, invalid(fmt.Errorf("no model given"))
	}
	if req.Model == "controller" {
		return nil, invalid(fmt.Errorf("the controller model cannot be destroyed; use `troupe destroy-controller`"))
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	if _, err := ask[*model.Destroying](s, m.UUID, &model.Destroy{}); err != nil {
		return nil, invalid(err)
	}
	if req.Force {
		if err := s.killErroredUnits(ctx, m.UUID); err != nil {
			return nil, err
		}
	}
	return &apipb.DestroyModelResult{Uuid: m.UUID}, nil
}

func (s *Server) killErroredUnits(ctx context.Context, uuid string) error {
	kvs, _, err := s.cfg.Store.List(ctx, entity.ModelPrefix(uuid)+"unit/")
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		var u entity.Unit
		if err := store.Decode(store.KV(kv), &u); err != nil {
			continue
		}
		if u.Life == entity.Dead || (u.Workload.Current != "error" && u.Agent.Current != "error") {
			continue
		}
		if err := s.forceUnitDead(uuid, u.Name); err != nil {
			return err
		}
	}
	return nil
}

// ShowUnitRelations implements apipb.ControllerServer.
func (s *Server) ShowUnitRelations(ctx context.Context, req *apipb.ShowUnitRelationsRequest) (*apipb.ShowUnitRelationsResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	var u entity.Unit
	if _, err := s.cfg.Store.Get(ctx, entity.UnitKey(m.UUID, req.Unit), &u); err != nil || u.Life == entity.Dead {
		return nil, status.Errorf(codes.NotFound, "unit %q not found in model %q; see `troupe status`", req.Unit, m.Name)
	}
	rels, err := s.listRelations(ctx, m.UUID)
	if err != nil {
		return nil, err
	}
	res := &apipb.ShowUnitRelationsResult{}
	for _, r := range rels {
		ep, ok := r.Endpoint(u.Application)
		if !ok {
			continue
		}
		st, err := relation.Load(ctx, s.cfg.Store, m.UUID, r.ID)
		if err != nil {
			return nil, err
		}
		if st == nil {
			continue
		}
		remote := r.RemoteApp(u.Application)
		remoteEP := ep.Name
		if re, ok := r.Endpoint(remote); ok && !r.IsPeer() {
			remoteEP = re.Name
		}
		info := &apipb.UnitRelationInfo{RelationId: int32(r.ID), Endpoint: ep.Name, RelatedEndpoint: remoteEP,
			ApplicationData: map[string]string{}, LocalData: map[string]string{}}
		if a := st.Apps[remote]; a != nil {
			info.ApplicationData = a.Settings
		}
		for name, ru := range st.Units {
			switch {
			case name == u.Name:
				info.LocalInScope = ru.InScope
				info.LocalData = ru.Settings
			case r.IsPeer() || !strings.HasPrefix(name, u.Application+"/"):
				info.RelatedUnits = append(info.RelatedUnits, &apipb.RelatedUnitData{Unit: name, InScope: ru.InScope, Data: ru.Settings})
			}
		}
		sort.Slice(info.RelatedUnits, func(i, j int) bool { return info.RelatedUnits[i].Unit < info.RelatedUnits[j].Unit })
		res.Relations = append(res.Relations, info)
	}
	sort.Slice(res.Relations, func(i, j int) bool { return res.Relations[i].RelationId < res.Relations[j].RelationId })
	return res, nil
}

// forceUnitDead destroys a unit (alive → dying) and makes it dead without
// waiting for its tear-down hooks.
func (s *Server) forceUnitDead(uuid, name string) error {
	if _, err := route[*unit.Done](s, uuid, model.KindUnit, name, &unit.Destroy{}); err != nil {
		return fmt.Errorf("cannot destroy unit %q: %w", name, err)
	}
	if _, err := route[*unit.Done](s, uuid, model.KindUnit, name, &unit.EnsureDead{}); err != nil {
		return fmt.Errorf("cannot force unit %q dead: %w", name, err)
	}
	if _, err := ask[*model.StorageDone](s, uuid, &model.ReleaseStorage{Unit: name, Dead: true}); err != nil {
		return fmt.Errorf("cannot release the storage of unit %q: %w", name, err)
	}
	return nil
}
