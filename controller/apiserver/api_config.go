package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/application"
	actorentity "github.com/troupe-dev/troupe/actors/entity"
	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// appAndCharm loads an application and its charm's config schema.
func (s *Server) appAndCharm(ctx context.Context, modelName, app string) (entity.Model, entity.Application, *charm.Charm, error) {
	var a entity.Application
	m, err := s.modelByName(ctx, modelName)
	if err != nil {
		return m, a, nil, err
	}
	if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(m.UUID, app), &a); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return m, a, nil, status.Errorf(codes.NotFound, "application %q not found in model %q", app, m.Name)
		}
		return m, a, nil, err
	}
	ch, err := s.charmBySHA(a.CharmSHA256)
	if err != nil {
		return m, a, nil, fmt.Errorf("cannot read charm %s: %w", a.CharmURL, err)
	}
	return m, a, ch, nil
}

// configTypeNames maps charm option types to the names `juju config` shows.
var configTypeNames = map[string]string{"boolean": "boolean", "int": "int", "float": "float", "string": "string", "secret": "secret"}

// GetConfig implements apipb.ControllerServer.
func (s *Server) GetConfig(ctx context.Context, req *apipb.GetConfigRequest) (*apipb.GetConfigResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	_, a, ch, err := s.appAndCharm(ctx, req.Model, req.Application)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ch.Config.Options))
	for n := range ch.Config.Options {
		names = append(names, n)
	}
	sort.Strings(names)
	settings := map[string]map[string]any{}
	for _, n := range names {
		opt := ch.Config.Options[n]
		e := map[string]any{"description": opt.Description, "type": configTypeNames[opt.Type], "source": "unset"}
		if opt.Default != nil {
			e["default"] = opt.Default
			e["value"] = opt.Default
			e["source"] = "default"
		}
		if v, ok := a.UserSettings[n]; ok && v != nil {
			e["value"] = v
			e["source"] = "user"
		}
		settings[n] = e
	}
	data, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	return &apipb.GetConfigResult{Application: a.Name, Charm: a.CharmName, SettingsJson: data, Trust: a.Trust}, nil
}

// SetConfig implements apipb.ControllerServer. The application's actor
// parses, merges and persists the change against its own state
// (application.UpdateSettings): no read of the application here, and
// concurrent changes of different options all land.
func (s *Server) SetConfig(ctx context.Context, req *apipb.SetConfigRequest) (*apipb.SetConfigResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	uuid, name, err := s.modelUUID(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	msg := &application.UpdateSettings{Set: req.Values, Reset: req.Reset_, Schema: s.charmSchema}
	_, err = route[*application.Done](s, uuid, model.KindApplication, req.Application, msg)
	var inv *application.InvalidSettings
	switch {
	case errors.Is(err, actorentity.ErrNotFound):
		return nil, status.Errorf(codes.NotFound, "application %q not found in model %q", req.Application, name)
	case errors.As(err, &inv):
		return nil, invalid(err)
	case err != nil:
		return nil, err
	}
	return &apipb.SetConfigResult{}, nil
}

// charmSchema is the config schema of the stored charm sha (cached).
func (s *Server) charmSchema(sha string) (*charm.Config, error) {
	ch, err := s.charmBySHA(sha)
	if err != nil {
		return nil, err
	}
	return ch.Config, nil
}
