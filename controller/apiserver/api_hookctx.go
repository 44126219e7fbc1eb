package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/goalstate"
	"github.com/troupe-dev/troupe/internal/store"
)

// UnitGoalState implements apipb.ControllerServer (`goal-state`): the
// decision is goalstate.Build over the model's units and relations.
func (s *Server) UnitGoalState(ctx context.Context, req *apipb.UnitGoalStateRequest) (*apipb.UnitGoalStateResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	kvs, _, err := s.cfg.Store.List(ctx, entity.ModelPrefix(tag.Model)+"unit/")
	if err != nil {
		return nil, fmt.Errorf("cannot list units: %w", err)
	}
	units := make([]entity.Unit, 0, len(kvs))
	for _, kv := range kvs {
		var u entity.Unit
		if err := store.Decode(store.KV(kv), &u); err != nil {
			return nil, err
		}
		units = append(units, u)
	}
	rels, err := s.listRelations(ctx, tag.Model)
	if err != nil {
		return nil, err
	}
	app, _, _ := entity.SplitUnitName(req.Unit)
	var views []goalstate.Relation
	for _, r := range rels {
		if _, ok := r.Endpoint(app); !ok {
			continue
		}
		st, err := relation.Load(ctx, s.cfg.Store, tag.Model, r.ID)
		if err != nil {
			return nil, err
		}
		if st == nil {
			continue
		}
		v := goalstate.Relation{Relation: st.Relation, InScope: map[string]bool{}}
		for name, ru := range st.Units {
			v.InScope[name] = ru.InScope
		}
		views = append(views, v)
	}
	doc := goalstate.Build(req.Unit, units, views)
	res := &apipb.UnitGoalStateResult{Units: goalStatuses(doc.Units)}
	for ep, m := range doc.Relations {
		res.Relations = append(res.Relations, &apipb.GoalRelation{Endpoint: ep, Entries: goalStatuses(m)})
	}
	return res, nil
}

func goalStatuses(m map[string]goalstate.Status) map[string]*apipb.GoalStatus {
	out := make(map[string]*apipb.GoalStatus, len(m))
	for k, st := range m {
		g := &apipb.GoalStatus{Status: st.Status}
		if !st.Since.IsZero() {
			g.SinceUnixMs = st.Since.UnixMilli()
		}
		out[k] = g
	}
	return out
}

// UnitCloudSpec implements apipb.ControllerServer (`credential-get`).
func (s *Server) UnitCloudSpec(ctx context.Context, req *apipb.UnitCloudSpecRequest) (*apipb.UnitCloudSpecResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	app, _, _ := entity.SplitUnitName(req.Unit)
	var a entity.Application
	if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(tag.Model, app), &a); err != nil {
		return nil, fmt.Errorf("cannot read application %q: %w", app, err)
	}
	if !a.Trust {
		return nil, status.Errorf(codes.FailedPrecondition, "application %q is not trusted", app)
	}
	var m entity.Model
	if _, err := s.cfg.Store.Get(ctx, entity.ModelKey(tag.Model), &m); err != nil {
		return nil, fmt.Errorf("cannot read model: %w", err)
	}
	b, err := json.Marshal(CloudSpec(m.Cloud))
	if err != nil {
		return nil, err
	}
	return &apipb.UnitCloudSpecResult{SpecJson: b}, nil
}

// CloudSpec is the credential-get document of a model on cloud (empty:
// the built-in "localhost"). Troupe's only provider is the local one: a
// "manual"-type cloud (as `show-cloud localhost` says) whose credential
// has auth-type "empty" and no attributes, on the controller's own host.
func CloudSpec(cloud string) map[string]any {
	if strings.TrimSpace(cloud) == "" {
		cloud = "localhost"
	}
	return map[string]any{
		"type": "manual", "name": cloud, "region": "default",
		"endpoint": "", "identity-endpoint": "", "storage-endpoint": "",
		"credential":     map[string]any{"auth-type": "empty", "attrs": map[string]any{}},
		"cacertificates": []string{}, "skip-tls-verify": false, "is-controller-cloud": true,
	}
}
