package apiserver

import (
	"context"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/internal/api/apipb"
)

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
	res, err := ask[*model.MachinesAdded](s, m.UUID, &model.AddMachines{N: n})
	if err != nil {
		return nil, invalid(err)
	}
	return &apipb.AddMachineResult{Machines: res.Machines}, nil
}
