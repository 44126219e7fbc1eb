package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/machine"
	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/unit"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Agent credentials: revocation (`troupe revoke-agent`) and rotation
// (`troupe rotate-agent-credential`). A credential is only ever checked
// against the hash in the agent's own document, and loginGuard's cache is
// keyed by that hash, so changing the document is what revokes: the next
// call with the old password is refused.

// RevokeAgent implements apipb.ControllerServer.
func (s *Server) RevokeAgent(ctx context.Context, req *apipb.RevokeAgentRequest) (*apipb.RevokeAgentResult, error) {
	if (req.Machine == "") == (req.Unit == "") {
		return nil, invalid(errors.New("name either a machine or a unit to revoke"))
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	res := &apipb.RevokeAgentResult{}
	revokeUnit := func(name string) error {
		if _, err := route[*unit.Done](s, m.UUID, model.KindUnit, name, &unit.SetPasswordHash{Hash: ""}); err != nil {
			return fmt.Errorf("cannot revoke unit %s: %w", name, err)
		}
		t := entity.Tag{Kind: entity.KindUnit, Name: name, Model: m.UUID}
		s.refreshCreds(t)
		tag := t.String()
		s.streams.cut(tag)
		res.Revoked = append(res.Revoked, tag)
		return nil
	}
	if req.Unit != "" {
		if err := s.mustExist(ctx, entity.UnitKey(m.UUID, req.Unit), &entity.Unit{}, "unit", req.Unit); err != nil {
			return nil, err
		}
		return res, revokeUnit(req.Unit)
	}
	if err := s.mustExist(ctx, entity.MachineKey(m.UUID, req.Machine), &entity.Machine{}, "machine", req.Machine); err != nil {
		return nil, err
	}
	if _, err := route[*machine.Done](s, m.UUID, model.KindMachine, req.Machine, &machine.RevokeCredential{}); err != nil {
		return nil, fmt.Errorf("cannot revoke machine %s: %w", req.Machine, err)
	}
	mt := entity.Tag{Kind: entity.KindMachine, Name: req.Machine, Model: m.UUID}
	s.refreshCreds(mt)
	mtag := mt.String()
	s.streams.cut(mtag)
	res.Revoked = append(res.Revoked, mtag)
	// The machine agent issues its units' credentials: a revoked machine
	// takes its units with it.
	units, err := s.unitsOfMachine(ctx, m.UUID, req.Machine)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		if err := revokeUnit(u); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// RotateAgentCredential implements apipb.ControllerServer.
func (s *Server) RotateAgentCredential(ctx context.Context, req *apipb.RotateAgentCredentialRequest) (*apipb.RotateAgentCredentialResult, error) {
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	var doc entity.Machine
	if err := s.mustExist(ctx, entity.MachineKey(m.UUID, req.Machine), &doc, "machine", req.Machine); err != nil {
		return nil, err
	}
	if doc.PasswordHash == "" {
		return nil, status.Errorf(codes.FailedPrecondition, "machine %s has no credential (not provisioned yet, or revoked); nothing to rotate", req.Machine)
	}
	if _, err := route[*machine.Done](s, m.UUID, model.KindMachine, req.Machine, &machine.RequestRotation{}); err != nil {
		return nil, fmt.Errorf("cannot request rotation for machine %s: %w", req.Machine, err)
	}
	return &apipb.RotateAgentCredentialResult{}, nil
}

// MachineCredential implements apipb.ControllerServer.
func (s *Server) MachineCredential(ctx context.Context, req *apipb.MachineCredentialRequest) (*apipb.MachineCredentialResult, error) {
	tag, err := requireMachine(ctx, req.Machine)
	if err != nil {
		return nil, err
	}
	var doc entity.Machine
	if _, err := s.cfg.Store.Get(ctx, entity.MachineKey(tag.Model, req.Machine), &doc); err != nil {
		return nil, err
	}
	if !doc.RotateCredential {
		return &apipb.MachineCredentialResult{}, nil
	}
	pw := entity.NewPassword()
	if _, err := route[*machine.Done](s, tag.Model, model.KindMachine, req.Machine, &machine.IssueCredential{Hash: entity.HashPassword(pw)}); err != nil {
		return nil, fmt.Errorf("cannot issue a credential to machine %s: %w", req.Machine, err)
	}
	return &apipb.MachineCredentialResult{Password: pw}, nil
}

// promoteMachineCredential makes a machine's pending credential its only
// one, once the agent used it (called by authenticate).
func (s *Server) promoteMachineCredential(tag entity.Tag, hash string) error {
	_, err := route[*machine.Done](s, tag.Model, model.KindMachine, tag.Name, &machine.PromoteCredential{Hash: hash})
	if err == nil {
		s.refreshCreds(tag)
	}
	return err
}

func (s *Server) mustExist(ctx context.Context, key string, into any, kind, name string) error {
	_, err := s.cfg.Store.Get(ctx, key, into)
	if errors.Is(err, store.ErrNotFound) {
		return status.Errorf(codes.NotFound, "%s %q not found; see `troupe status`", kind, name)
	}
	return err
}

func (s *Server) unitsOfMachine(ctx context.Context, model, machine string) ([]string, error) {
	kvs, _, err := s.cfg.Store.List(ctx, entity.ModelPrefix(model)+"unit/")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, kv := range kvs {
		var u entity.Unit
		if err := json.Unmarshal(kv.Value, &u); err != nil {
			return nil, fmt.Errorf("unit document %s is unreadable: %w", kv.Key, err)
		}
		if u.Machine == machine {
			out = append(out, u.Name)
		}
	}
	return out, nil
}

// RotateCertificates implements apipb.ControllerServer.
func (s *Server) RotateCertificates(ctx context.Context, req *apipb.RotateCertificatesRequest) (*apipb.RotateCertificatesResult, error) {
	if s.cfg.RotateCert == nil {
		return nil, status.Error(codes.Unimplemented, "this API server cannot rotate its certificate")
	}
	c, err := s.cfg.RotateCert()
	if err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	s.logger().Info("api server certificate rotated", "serial", c.SerialNumber.Text(16), "not-after", c.NotAfter)
	return &apipb.RotateCertificatesResult{Serial: c.SerialNumber.Text(16), NotAfterUnix: c.NotAfter.Unix()}, nil
}
