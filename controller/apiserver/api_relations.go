package apiserver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/application"
	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/actors/unit"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/internal/store"
)

// Integrate implements apipb.ControllerServer.
func (s *Server) Integrate(ctx context.Context, req *apipb.IntegrateRequest) (*apipb.IntegrateResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	var sides [2]relation.Side
	var m entity.Model
	var remote *entity.RemoteApplication
	for i, arg := range []string{req.A, req.B} {
		app, ep, err := relation.ParseSide(arg)
		if err != nil {
			return nil, invalid(err)
		}
		mm, a, ch, err := s.appAndCharm(ctx, req.Model, app)
		if status.Code(err) == codes.NotFound && remote == nil {
			// A consumed offer (SAAS) of the model? (api_cmr.go)
			ra, meta, rerr := s.remoteSide(ctx, mm, app)
			if rerr != nil {
				return nil, rerr
			}
			if ra != nil {
				m, remote = mm, ra
				sides[i] = relation.Side{App: app, Meta: meta, Endpoint: ep}
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		if a.Life == entity.Dead {
			return nil, status.Errorf(codes.NotFound, "application %q not found in model %q", app, mm.Name)
		}
		m = mm
		sides[i] = relation.Side{App: app, Meta: ch.Meta, Endpoint: ep}
	}
	eps, err := relation.Match(sides[0], sides[1])
	if err != nil {
		return nil, invalid(err)
	}
	var res *model.RelationAdded
	if remote != nil {
		res, err = s.integrateRemote(ctx, m, remote, eps)
	} else {
		res, err = ask[*model.RelationAdded](s, m.UUID, &model.AddRelation{Endpoints: eps})
	}
	if err != nil {
		return nil, invalid(err)
	}
	return &apipb.IntegrateResult{Id: int32(res.ID), Key: res.Key, Endpoints: relationEndpoints(eps[:])}, nil
}

func relationEndpoints(eps []entity.Endpoint) []*apipb.RelationEndpoint {
	out := make([]*apipb.RelationEndpoint, len(eps))
	for i, e := range eps {
		out[i] = &apipb.RelationEndpoint{Application: e.Application, Name: e.Name, Role: e.Role, Interface: e.Interface, Scope: e.Scope}
	}
	return out
}

func (s *Server) listRelations(ctx context.Context, model string) ([]entity.Relation, error) {
	kvs, _, err := s.cfg.Store.List(ctx, entity.RelationsPrefix(model))
	if err != nil {
		return nil, err
	}
	out := make([]entity.Relation, 0, len(kvs))
	for _, kv := range kvs {
		var r entity.Relation
		if err := store.Decode(kv, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// matchesSide reports whether relation r has an endpoint for app (and,
// when given, endpoint name ep).
func matchesSide(r entity.Relation, app, ep string) bool {
	for _, e := range r.Endpoints {
		if e.Application == app && (ep == "" || e.Name == ep) {
			return true
		}
	}
	return false
}

// RemoveRelation implements apipb.ControllerServer.
func (s *Server) RemoveRelation(ctx context.Context, req *apipb.RemoveRelationRequest) (*apipb.RemoveRelationResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	rels, err := s.listRelations(ctx, m.UUID)
	if err != nil {
		return nil, err
	}
	var found []entity.Relation
	if id, err := strconv.Atoi(req.A); err == nil && req.B == "" {
		for _, r := range rels {
			if r.ID == id {
				found = append(found, r)
			}
		}
		if len(found) == 0 {
			return nil, status.Errorf(codes.NotFound, "relation %d not found in model %q; see `troupe status --relations`", id, m.Name)
		}
	} else {
		if req.B == "" {
			return nil, invalid(errors.New("remove-relation needs two endpoints (<app>[:<endpoint>] <app>[:<endpoint>]) or a relation id"))
		}
		a, aep, err := relation.ParseSide(req.A)
		if err != nil {
			return nil, invalid(err)
		}
		b, bep, err := relation.ParseSide(req.B)
		if err != nil {
			return nil, invalid(err)
		}
		for _, r := range rels {
			if !r.IsPeer() && r.Life == entity.Alive && matchesSide(r, a, aep) && matchesSide(r, b, bep) && a != b {
				found = append(found, r)
			}
		}
		switch {
		case len(found) == 0:
			return nil, status.Errorf(codes.NotFound, "relation %q not found in model %q; see `troupe status --relations`", req.A+" "+req.B, m.Name)
		case len(found) > 1:
			keys := make([]string, len(found))
			for i, r := range found {
				keys[i] = fmt.Sprintf("%q", r.Key)
			}
			return nil, invalid(fmt.Errorf("ambiguous relation: %q could refer to %s; name the endpoints", req.A+" "+req.B, strings.Join(keys, "; ")))
		}
	}
	r := found[0]
	if r.IsPeer() {
		return nil, invalid(fmt.Errorf("cannot remove peer relation %q: it lasts as long as its application", r.Key))
	}
	if _, err := route[*relation.Done](s, m.UUID, model.KindRelation, strconv.Itoa(r.ID), &relation.Destroy{}); err != nil {
		return nil, invalid(err)
	}
	return &apipb.RemoveRelationResult{}, nil
}

// unitAddress is the address a unit's relation settings and network-get
// report: its machine's first address, or loopback for a local machine
// that reported none.
func (s *Server) unitAddress(ctx context.Context, model, machineID string) string {
	var mc entity.Machine
	if _, err := s.cfg.Store.Get(ctx, entity.MachineKey(model, machineID), &mc); err == nil && len(mc.Addresses) > 0 {
		return mc.Addresses[0]
	}
	return defaultUnitAddress
}

// defaultUnitAddress is a local machine's address before it reports one.
const defaultUnitAddress = "127.0.0.1"

// unitRelation loads relation id for a calling unit and checks that the
// unit's application is in it.
// A cross-model relation is loaded in the unit's names and ref says
// where to send commands (api_cmr.go).
func (s *Server) unitRelation(ctx context.Context, tag entity.Tag, id int32) (*relation.State, relRef, error) {
	st, ref, err := s.loadRelation(ctx, tag.Model, int(id))
	if err != nil {
		return nil, ref, err
	}
	app, _, _ := entity.SplitUnitName(tag.Name)
	if st == nil {
		return nil, ref, status.Errorf(codes.NotFound, "relation %d not found", id)
	}
	if _, ok := st.Relation.Endpoint(app); !ok {
		return nil, ref, errPerm
	}
	return st, ref, nil
}

// EnterScope implements apipb.ControllerServer.
func (s *Server) EnterScope(ctx context.Context, req *apipb.EnterScopeRequest) (*apipb.EnterScopeResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	_, ref, err := s.unitRelation(ctx, tag, req.RelationId)
	if err != nil {
		return nil, err
	}
	var u entity.Unit
	if _, err := s.cfg.Store.Get(ctx, entity.UnitKey(tag.Model, req.Unit), &u); err != nil {
		return nil, err
	}
	if u.Life != entity.Alive {
		return nil, status.Errorf(codes.FailedPrecondition, "unit %s is %s and cannot enter a relation", u.Name, u.Life)
	}
	addr := s.unitAddress(ctx, tag.Model, u.Machine)
	auto := map[string]string{"private-address": addr, "ingress-address": addr, "egress-subnets": addr + "/32"}
	if _, err := route[*relation.Done](s, ref.Model, model.KindRelation, ref.routeID(),
		&relation.EnterScope{Unit: ref.toOwner(req.Unit), Settings: auto}); err != nil {
		if errors.Is(err, relation.ErrNotAlive) {
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
		return nil, err
	}
	return &apipb.EnterScopeResult{}, nil
}

// LeaveScope implements apipb.ControllerServer.
func (s *Server) LeaveScope(ctx context.Context, req *apipb.LeaveScopeRequest) (*apipb.LeaveScopeResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	_, ref, err := s.unitRelation(ctx, tag, req.RelationId)
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return &apipb.LeaveScopeResult{}, nil // already removed: nothing to leave
		}
		return nil, err
	}
	_, err = route[*relation.Done](s, ref.Model, model.KindRelation, ref.routeID(), &relation.LeaveScope{Unit: ref.toOwner(req.Unit)})
	if errors.Is(err, relation.ErrNotFound) {
		err = nil
	}
	return &apipb.LeaveScopeResult{}, err
}

// ReadRelationSettings implements apipb.ControllerServer. A unit may read
// the bags of units and applications of relations it is in, except its
// own application's bag in a non-peer relation, which only the leader
// may read (contract §6).
func (s *Server) ReadRelationSettings(ctx context.Context, req *apipb.ReadRelationSettingsRequest) (*apipb.ReadRelationSettingsResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	st, _, err := s.unitRelation(ctx, tag, req.RelationId)
	if err != nil {
		return nil, err
	}
	ownApp, _, _ := entity.SplitUnitName(req.Unit)
	res := &apipb.ReadRelationSettingsResult{Settings: map[string]string{}}
	if req.App {
		if _, ok := st.Relation.Endpoint(req.Target); !ok {
			return nil, status.Errorf(codes.NotFound, "application %q is not in relation %d", req.Target, req.RelationId)
		}
		if req.Target == ownApp && !st.Relation.IsPeer() {
			if leader, err := s.isLeader(ctx, tag); err != nil {
				return nil, err
			} else if !leader {
				return nil, status.Error(codes.PermissionDenied, "permission denied: only the leader can read its own application's data in this relation")
			}
		}
		if a := st.Apps[req.Target]; a != nil {
			for k, v := range a.Settings {
				res.Settings[k] = v
			}
			res.Version = a.Version
		}
		return res, nil
	}
	app, _, ok := entity.SplitUnitName(req.Target)
	if !ok {
		return nil, invalid(fmt.Errorf("invalid unit name %q", req.Target))
	}
	if _, in := st.Relation.Endpoint(app); !in {
		return nil, status.Errorf(codes.NotFound, "unit %q is not in relation %d", req.Target, req.RelationId)
	}
	u := st.Units[req.Target]
	if u == nil {
		return nil, status.Errorf(codes.NotFound, "unit %q has not joined relation %d", req.Target, req.RelationId)
	}
	for k, v := range u.Settings {
		res.Settings[k] = v
	}
	res.Version = u.Version
	return res, nil
}

func (s *Server) isLeader(ctx context.Context, tag entity.Tag) (bool, error) {
	app, _, _ := entity.SplitUnitName(tag.Name)
	var a entity.Application
	if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(tag.Model, app), &a); err != nil {
		return false, err
	}
	return a.LeaderAt(time.Now()) == tag.Name, nil
}

// CommitHook implements apipb.ControllerServer: it applies one entry of
// a unit agent's outbox. Each part is applied by the entity that owns it
// (the relation actors, then the unit actor, which records the entry's
// sequence number); each part is idempotent and a (stream, seq) already
// recorded is acknowledged without applying it again.
func (s *Server) CommitHook(ctx context.Context, req *apipb.CommitHookRequest) (*apipb.CommitHookResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	app, _, _ := entity.SplitUnitName(req.Unit)
	if req.Seq != 0 {
		var u entity.Unit
		if _, err := s.cfg.Store.Get(ctx, entity.UnitKey(tag.Model, req.Unit), &u); err != nil {
			return nil, err
		}
		if u.CommitStream == req.Stream && req.Seq <= u.CommitSeq {
			return &apipb.CommitHookResult{}, nil // delivered before: acknowledge again
		}
	}
	refs := map[int32]relRef{}
	for _, rc := range req.Relations {
		_, ref, err := s.unitRelation(ctx, tag, rc.RelationId)
		if err != nil {
			return nil, err
		}
		refs[rc.RelationId] = ref
		if len(rc.Application) > 0 {
			leader, err := s.isLeader(ctx, tag)
			if err != nil {
				return nil, err
			}
			if !leader {
				return nil, status.Errorf(codes.PermissionDenied, "cannot write relation settings: %s is not the leader of %s", req.Unit, app)
			}
		}
	}
	// Logs and action reports first: each is idempotent or, for log
	// lines, stored before the sequence number is recorded, so a commit
	// interrupted half-way repeats (never loses) them (api_outbox.go).
	if err := s.commitReports(ctx, tag, req); err != nil {
		return nil, err
	}
	// Secrets first: a URI published in relation data is readable by the
	// time the remote side sees it.
	if err := s.commitSecrets(ctx, tag, req); err != nil {
		return nil, err
	}
	for _, rc := range req.Relations {
		ref := refs[rc.RelationId]
		msg := &relation.UpdateSettings{Unit: ref.toOwner(req.Unit), UnitChanges: rc.Unit}
		if len(rc.Application) > 0 {
			msg.App, msg.AppChanges = ref.toOwner(app), rc.Application
		}
		if _, err := route[*relation.Done](s, ref.Model, model.KindRelation, ref.routeID(), msg); err != nil {
			return nil, fmt.Errorf("cannot commit hook %q: relation %d: %w", req.Hook, rc.RelationId, err)
		}
	}
	if err := s.commitAddStorage(tag, req); err != nil { // api_storage.go
		return nil, err
	}
	// The unit records the sequence number last, so a commit interrupted
	// half-way is re-applied whole (each part is idempotent).
	open, closed, err := portMaps(req.OpenPorts, req.ClosePorts)
	if err != nil {
		return nil, invalid(err)
	}
	if len(req.StateSet) > 0 || len(req.StateDelete) > 0 || len(open) > 0 || len(closed) > 0 || req.Seq != 0 || req.Workload != nil {
		if _, err := route[*unit.Done](s, tag.Model, model.KindUnit, req.Unit,
			&unit.UpdateCharmState{Set: req.StateSet, Delete: req.StateDelete, OpenPorts: open, ClosePorts: closed,
				Workload: outboxStatus(req.Workload), Stream: req.Stream, Seq: req.Seq}); err != nil {
			return nil, fmt.Errorf("cannot commit hook %q: charm state: %w", req.Hook, err)
		}
	}
	return &apipb.CommitHookResult{}, nil
}

// unitRelations builds the relation part of a unit's snapshot: every
// relation its application is in, with the remote units in scope and the
// remote application's bag version.
func (s *Server) unitRelations(ctx context.Context, model string, u entity.Unit) ([]*apipb.RelationSnapshot, error) {
	rels, err := s.listRelations(ctx, model)
	if err != nil {
		return nil, err
	}
	var states []*relation.State
	for _, r := range rels {
		if _, ok := r.Endpoint(u.Application); !ok {
			continue
		}
		st, err := relation.Load(ctx, s.cfg.Store, model, r.ID)
		if err != nil {
			return nil, err
		}
		if st == nil {
			continue // removed since the list
		}
		states = append(states, st)
	}
	// Consuming models' relations with this (offered) application.
	linked, err := s.linkedRelations(ctx, model, u.Application)
	if err != nil {
		return nil, err
	}
	states = append(states, linked...)
	var out []*apipb.RelationSnapshot
	for _, st := range states {
		r := st.Relation
		ep, _ := r.Endpoint(u.Application)
		remote := r.RemoteApp(u.Application)
		rs := &apipb.RelationSnapshot{Id: int32(r.ID), Endpoint: ep.Name, RemoteApplication: remote, Peer: r.IsPeer(),
			Life: string(st.Relation.Life), Suspended: st.Relation.Suspended, Interface: ep.Interface,
			Members: map[string]int64{}, AppVersions: map[string]int64{}}
		var colocated map[string]bool
		if ep.Scope == entity.ScopeContainer && !r.IsPeer() {
			if colocated, err = s.unitsOnMachine(ctx, model, remote, u.Machine); err != nil {
				return nil, err
			}
		}
		for name, ru := range st.Units {
			switch {
			case name == u.Name:
				rs.InScope = ru.InScope
			case colocated != nil && !colocated[name]:
				// Container scope: only the units on this unit's machine.
			case ru.InScope && (r.IsPeer() || !strings.HasPrefix(name, u.Application+"/")):
				rs.Members[name] = ru.Version
			}
		}
		if a := st.Apps[remote]; a != nil {
			rs.AppVersions[remote] = a.Version
		}
		out = append(out, rs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return out, nil
}

// unitsOnMachine returns the units of app placed on machine: the members
// a unit of a container-scoped relation may see.
func (s *Server) unitsOnMachine(ctx context.Context, model, app, machine string) (map[string]bool, error) {
	kvs, _, err := s.cfg.Store.List(ctx, entity.UnitsPrefix(model, app))
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, kv := range kvs {
		var u entity.Unit
		if err := store.Decode(store.KV(kv), &u); err != nil {
			return nil, err
		}
		if u.Machine == machine {
			out[u.Name] = true
		}
	}
	return out, nil
}

// relationStatuses lists the model's relations for status.
func relationStatuses(rels []entity.Relation) []*apipb.RelationStatus {
	out := make([]*apipb.RelationStatus, 0, len(rels))
	for _, r := range rels {
		iface := ""
		if len(r.Endpoints) > 0 {
			iface = r.Endpoints[0].Interface
		}
		out = append(out, &apipb.RelationStatus{Id: int32(r.ID), Key: r.Key, Interface: iface,
			Endpoints: relationEndpoints(r.Endpoints), Life: string(r.Life)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return out
}

// SetLeaderSettings implements apipb.ControllerServer.
func (s *Server) SetLeaderSettings(ctx context.Context, req *apipb.SetLeaderSettingsRequest) (*apipb.SetLeaderSettingsResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	app, _, _ := entity.SplitUnitName(req.Unit)
	if _, err := route[*application.Done](s, tag.Model, model.KindApplication, app,
		&application.SetLeaderSettings{Unit: req.Unit, Changes: req.Settings}); err != nil {
		if errors.Is(err, application.ErrNotLeader) {
			return nil, status.Error(codes.PermissionDenied, err.Error())
		}
		return nil, err
	}
	return &apipb.SetLeaderSettingsResult{}, nil
}

// portMaps validates the port sets of a hook commit.
func portMaps(open, closed []*apipb.PortSet) (map[string][]string, map[string][]string, error) {
	conv := func(sets []*apipb.PortSet) (map[string][]string, error) {
		if len(sets) == 0 {
			return nil, nil
		}
		out := map[string][]string{}
		for _, ps := range sets {
			for _, r := range ps.Ranges {
				pr, err := hookcmds.ParsePortRange(r)
				if err != nil {
					return nil, err
				}
				out[ps.Endpoint] = append(out[ps.Endpoint], pr.String())
			}
		}
		return out, nil
	}
	o, err := conv(open)
	if err != nil {
		return nil, nil, err
	}
	c, err := conv(closed)
	return o, c, err
}

// unitPorts lists a unit's open ports for its snapshot.
func unitPorts(u entity.Unit) []*apipb.PortSet {
	var out []*apipb.PortSet
	for _, ep := range slices.Sorted(maps.Keys(u.OpenPorts)) {
		out = append(out, &apipb.PortSet{Endpoint: ep, Ranges: u.OpenPorts[ep]})
	}
	return out
}

// statusPorts is the union of a unit's open ports, as status shows them.
func statusPorts(u entity.Unit) []string {
	var out []string
	for _, rs := range u.OpenPorts {
		for _, r := range rs {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return out
}
