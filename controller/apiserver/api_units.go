package apiserver

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/application"
	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/unit"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
)

// AddUnit implements apipb.ControllerServer.
func (s *Server) AddUnit(ctx context.Context, req *apipb.AddUnitRequest) (*apipb.AddUnitResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	res, err := ask[*model.UnitsAdded](s, m.UUID, &model.AddUnits{App: req.Application, NumUnits: int(req.NumUnits), To: req.To})
	if err != nil {
		return nil, invalid(err)
	}
	return &apipb.AddUnitResult{Units: res.Units}, nil
}

// RemoveUnit implements apipb.ControllerServer. Every unit is checked
// before any is destroyed, so a bad name changes nothing.
func (s *Server) RemoveUnit(ctx context.Context, req *apipb.RemoveUnitRequest) (*apipb.RemoveUnitResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	if len(req.Units) == 0 {
		return nil, invalid(errors.New("no units specified"))
	}
	for _, name := range req.Units {
		var u entity.Unit
		if _, _, ok := entity.SplitUnitName(name); !ok {
			return nil, invalid(fmt.Errorf("invalid unit name %q: expected <application>/<number>", name))
		}
		if _, err := s.cfg.Store.Get(ctx, entity.UnitKey(m.UUID, name), &u); err != nil || u.Life == entity.Dead {
			return nil, status.Errorf(codes.NotFound, "unit %q not found in model %q", name, m.Name)
		}
	}
	for _, name := range req.Units {
		// Storage first: the dying unit's agent runs storage-detaching.
		if _, err := ask[*model.StorageDone](s, m.UUID, &model.ReleaseStorage{Unit: name, Destroy: req.DestroyStorage}); err != nil {
			return nil, err
		}
		if _, err := route[*unit.Done](s, m.UUID, model.KindUnit, name, &unit.Destroy{}); err != nil {
			return nil, err
		}
	}
	return &apipb.RemoveUnitResult{}, nil
}

// UnitDead implements apipb.ControllerServer: the unit is marked dead. Its
// machine is released by the cleaner once no unit is left on it.
func (s *Server) UnitDead(ctx context.Context, req *apipb.UnitDeadRequest) (*apipb.UnitDeadResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	if _, err := route[*unit.Done](s, tag.Model, model.KindUnit, req.Unit, &unit.EnsureDead{}); err != nil {
		return nil, invalid(err)
	}
	if _, err := ask[*model.StorageDone](s, tag.Model, &model.ReleaseStorage{Unit: req.Unit, Dead: true}); err != nil {
		return nil, err
	}
	return &apipb.UnitDeadResult{}, nil
}

// RemoveApplication implements apipb.ControllerServer. Every application
// is checked before any is destroyed.
func (s *Server) RemoveApplication(ctx context.Context, req *apipb.RemoveApplicationRequest) (*apipb.RemoveApplicationResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	if len(req.Applications) == 0 {
		return nil, invalid(errors.New("no application specified"))
	}
	for _, name := range req.Applications {
		var a entity.Application
		if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(m.UUID, name), &a); err != nil || a.Life == entity.Dead {
			return nil, status.Errorf(codes.NotFound, "application %q not found in model %q", name, m.Name)
		}
	}
	for _, name := range req.Applications {
		if err := s.releaseApplicationStorage(ctx, m.UUID, name, req.DestroyStorage); err != nil { // api_storage.go
			return nil, err
		}
		if _, err := route[*application.Done](s, m.UUID, model.KindApplication, name, &application.Destroy{}); err != nil {
			return nil, err
		}
	}
	return &apipb.RemoveApplicationResult{}, nil
}
