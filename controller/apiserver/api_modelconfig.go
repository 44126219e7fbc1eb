package apiserver

import (
	"context"
	"encoding/json"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/modelconfig"
)

// GetModelConfig implements apipb.ControllerServer.
func (s *Server) GetModelConfig(ctx context.Context, req *apipb.GetModelConfigRequest) (*apipb.GetModelConfigResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(modelconfig.Describe(m.Config, m.Name, m.UUID))
	if err != nil {
		return nil, err
	}
	return &apipb.GetModelConfigResult{ConfigJson: data}, nil
}

// SetModelConfig implements apipb.ControllerServer. The model guardian
// validates the change and persists it before acknowledging.
func (s *Server) SetModelConfig(ctx context.Context, req *apipb.SetModelConfigRequest) (*apipb.SetModelConfigResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	if _, err := ask[*model.ConfigSet](s, m.UUID, &model.SetConfig{Values: req.Values, Reset: req.Reset_}); err != nil {
		return nil, invalid(err)
	}
	return &apipb.SetModelConfigResult{}, nil
}
