package apiserver

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/application"
	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
)

// Refresh implements apipb.ControllerServer: check the new charm against
// the application's alive relations (application.CheckRefresh), record
// it under the next local revision (model guardian), switch the
// application to it with its carried-over settings (application actor),
// then create the peer relations the new charm declares. Units see the
// new charm URL in their snapshot and run upgrade-charm, then
// config-changed.
func (s *Server) Refresh(ctx context.Context, req *apipb.RefreshRequest) (*apipb.RefreshResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, a, old, err := s.appAndCharm(ctx, req.Model, req.Application)
	if err != nil {
		return nil, err
	}
	if a.Life != entity.Alive {
		return nil, status.Errorf(codes.FailedPrecondition, "cannot refresh %q: it is %s", a.Name, a.Life)
	}
	ch, sum, err := s.saveCharm(req.CharmArchive)
	if err != nil {
		return nil, invalid(fmt.Errorf("cannot refresh %q: %w", a.Name, err))
	}
	rels, err := s.listRelations(ctx, m.UUID)
	if err != nil {
		return nil, err
	}
	plan, err := application.CheckRefresh(a.Name, old.Meta, ch, a.UserSettings, rels)
	if err != nil {
		return nil, invalid(err)
	}
	values, err := ch.Config.ParseSettingsStrings(req.Config)
	if err != nil {
		return nil, invalid(fmt.Errorf("cannot refresh %q: %w", a.Name, err))
	}
	for k, v := range values {
		plan.User[k] = v
	}
	resources, err := s.saveResources(ch.Meta, req.Resources)
	if err != nil {
		return nil, invalid(fmt.Errorf("cannot refresh %q: %w", a.Name, err))
	}
	if len(resources) > 0 {
		// Before the charm switch, so upgrade-charm already sees them.
		if _, err := route[*application.Done](s, m.UUID, model.KindApplication, a.Name, &application.SetResources{Resources: resources}); err != nil {
			return nil, err
		}
	}
	rec, err := ask[*model.CharmRecorded](s, m.UUID, &model.RecordCharm{
		Charm: entity.Charm{Name: ch.Meta.Name, SHA256: sum, Size: int64(len(req.CharmArchive)), Version: ch.Version}})
	if err != nil {
		return nil, invalid(err)
	}
	eff := ch.Config.EffectiveSettings(plan.User)
	if _, err := route[*application.Done](s, m.UUID, model.KindApplication, a.Name, &application.SetCharm{
		From: a.CharmURL, Charm: rec.Charm, User: plan.User, Effective: eff, Hash: eff.Hash()}); err != nil {
		return nil, invalid(err)
	}
	var peers []entity.Endpoint
	fresh := map[string]bool{}
	for _, name := range application.NewPeers(a.Name, ch.Meta, rels) {
		fresh[name] = true
	}
	for _, ep := range relation.Peers(a.Name, ch.Meta) {
		if fresh[ep.Name] {
			peers = append(peers, ep)
		}
	}
	if len(peers) > 0 {
		if _, err := ask[*model.PeersAdded](s, m.UUID, &model.AddPeers{Endpoints: peers}); err != nil {
			return nil, fmt.Errorf("application %q now runs %s, but its new peer relations could not be created (run the refresh again): %w", a.Name, rec.Charm.URL, err)
		}
	}
	if s.cfg.Logger != nil {
		s.cfg.Logger.Info("application refreshed", "model", m.Name, "application", a.Name, "charm", rec.Charm.URL, "dropped", plan.Dropped)
	}
	return &apipb.RefreshResult{CharmUrl: rec.Charm.URL, CharmRev: int32(rec.Charm.Revision), Dropped: plan.Dropped}, nil
}

// addSubordinateTo fills subordinate_to of each subordinate application:
// the principal applications it shares an alive container-scoped
// relation with, sorted.
func addSubordinateTo(apps []*apipb.ApplicationStatus, rels []entity.Relation) {
	byName := map[string]*apipb.ApplicationStatus{}
	for _, a := range apps {
		byName[a.Name] = a
	}
	for _, r := range rels {
		if r.Life == entity.Dead || len(r.Endpoints) != 2 || r.Endpoints[0].Scope != entity.ScopeContainer {
			continue
		}
		for i := range 2 {
			sub, prin := byName[r.Endpoints[i].Application], byName[r.Endpoints[1-i].Application]
			if sub == nil || prin == nil || !sub.Subordinate || prin.Subordinate || slices.Contains(sub.SubordinateTo, prin.Name) {
				continue
			}
			sub.SubordinateTo = append(sub.SubordinateTo, prin.Name)
			sort.Strings(sub.SubordinateTo)
		}
	}
}
