package apiserver

import (
	"context"
	"fmt"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/constraints"
)

// parseConstraints types constraint tokens (nil for none).
func parseConstraints(tokens []string) (map[string]any, error) {
	c, err := constraints.Parse(tokens)
	if err != nil || len(c) == 0 {
		return nil, err
	}
	return c, nil
}

// AddMachine implements apipb.ControllerServer.
func (s *Server) AddMachine(ctx context.Context, req *apipb.AddMachineRequest) (*apipb.AddMachineResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	n := int(req.NumMachines)
	if n == 0 {
		n = 1
	}
	cons, err := parseConstraints(req.Constraints)
	if err != nil {
		return nil, invalid(fmt.Errorf("cannot add machine: %w", err))
	}
	res, err := ask[*model.MachinesAdded](s, m.UUID, &model.AddMachines{N: n, Constraints: cons})
	if err != nil {
		return nil, invalid(err)
	}
	return &apipb.AddMachineResult{Machines: res.Machines}, nil
}
