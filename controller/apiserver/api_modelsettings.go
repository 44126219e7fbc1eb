package apiserver

import (
	"context"
	"encoding/json"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/application"
	"github.com/troupe-dev/troupe/actors/machine"
	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/constraints"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// SetTrust implements apipb.ControllerServer.
func (s *Server) SetTrust(ctx context.Context, req *apipb.SetTrustRequest) (*apipb.SetTrustResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, a, _, err := s.appAndCharm(ctx, req.Model, req.Application)
	if err != nil {
		return nil, err
	}
	if _, err := route[*application.Done](s, m.UUID, model.KindApplication, a.Name, &application.SetTrust{Trust: req.Trust}); err != nil {
		return nil, err
	}
	return &apipb.SetTrustResult{}, nil
}

// ModelConstraints implements apipb.ControllerServer.
func (s *Server) ModelConstraints(ctx context.Context, req *apipb.ModelConstraintsRequest) (*apipb.ModelConstraintsResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	cons := m.Constraints
	if req.Set {
		if cons, err = constraints.Parse(req.Constraints); err != nil {
			return nil, invalid(err)
		}
		if _, err := ask[*model.ConstraintsSet](s, m.UUID, &model.SetConstraints{Values: cons}); err != nil {
			return nil, invalid(err)
		}
	}
	if cons == nil {
		cons = map[string]any{}
	}
	data, err := json.Marshal(cons)
	if err != nil {
		return nil, err
	}
	return &apipb.ModelConstraintsResult{ConstraintsJson: data}, nil
}

// ModelSSHKeys implements apipb.ControllerServer.
func (s *Server) ModelSSHKeys(ctx context.Context, req *apipb.ModelSSHKeysRequest) (*apipb.ModelSSHKeysResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	if len(req.Add) == 0 && len(req.Remove) == 0 {
		return &apipb.ModelSSHKeysResult{Keys: m.SSHKeys}, nil
	}
	res, err := ask[*model.SSHKeysUpdated](s, m.UUID, &model.UpdateSSHKeys{Add: req.Add, Remove: req.Remove})
	if err != nil {
		return nil, invalid(err)
	}
	return &apipb.ModelSSHKeysResult{Keys: res.Keys}, nil
}

// RemoveMachine implements apipb.ControllerServer. Every machine is
// checked before any is destroyed.
func (s *Server) RemoveMachine(ctx context.Context, req *apipb.RemoveMachineRequest) (*apipb.RemoveMachineResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	if len(req.Machines) == 0 {
		return nil, invalid(errors.New("no machine specified"))
	}
	kvs, _, err := s.cfg.Store.List(ctx, entity.ModelPrefix(m.UUID)+"unit/")
	if err != nil {
		return nil, err
	}
	hosted := map[string][]string{}
	for _, kv := range kvs {
		var u entity.Unit
		if err := store.Decode(store.KV(kv), &u); err != nil {
			return nil, err
		}
		if u.Life != entity.Dead {
			hosted[u.Machine] = append(hosted[u.Machine], u.Name)
		}
	}
	for _, id := range req.Machines {
		var mc entity.Machine
		if _, err := s.cfg.Store.Get(ctx, entity.MachineKey(m.UUID, id), &mc); err != nil || mc.Life == entity.Dead {
			return nil, status.Errorf(codes.NotFound, "machine %q not found in model %q; see `troupe status`", id, m.Name)
		}
		if len(hosted[id]) > 0 && !req.Force {
			return nil, status.Errorf(codes.FailedPrecondition,
				"machine %s hosts units %v; remove them first (`troupe remove-unit`) or use --force", id, hosted[id])
		}
	}
	for _, id := range req.Machines {
		for _, u := range hosted[id] {
			if err := s.forceUnitDead(m.UUID, u); err != nil {
				return nil, err
			}
		}
		if _, err := route[*machine.Done](s, m.UUID, model.KindMachine, id, &machine.Destroy{}); err != nil {
			return nil, err
		}
	}
	return &apipb.RemoveMachineResult{}, nil
}
