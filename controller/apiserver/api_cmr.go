package apiserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Cross-model relations within this controller (entity/cmr.go). A
// relation to a consumed offer is a relation of the consuming model; the
// offered application's units reach it through the RelationLink of their
// own model: relRef says which relation actor owns a relation id a unit
// names, and translates names between the unit's model and the
// relation's bags.

// relRef locates the relation behind a unit's relation id.
type relRef struct {
	Model string               // model of the relation's actor
	ID    int                  // its id there
	Link  *entity.RelationLink // nil for a relation of the unit's own model
}

// toOwner maps a name of the unit's model to the relation's.
func (r relRef) toOwner(name string) string {
	if r.Link == nil {
		return name
	}
	return r.Link.ToConsumer(name)
}

func (r relRef) routeID() string { return strconv.Itoa(r.ID) }

// loadRelation loads relation id as seen from model: a relation of its
// own, or a linked one of a consuming model, translated to the offering
// model's names. nil when neither exists.
func (s *Server) loadRelation(ctx context.Context, model string, id int) (*relation.State, relRef, error) {
	st, err := relation.Load(ctx, s.cfg.Store, model, id)
	if err != nil || st != nil {
		return st, relRef{Model: model, ID: id}, err
	}
	var link entity.RelationLink
	if _, err := s.cfg.Store.Get(ctx, entity.RelationLinkKey(model, id), &link); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, relRef{}, nil
		}
		return nil, relRef{}, err
	}
	ref := relRef{Model: link.ConsumerModel, ID: link.RelationID, Link: &link}
	st, err = relation.Load(ctx, s.cfg.Store, link.ConsumerModel, link.RelationID)
	if err != nil || st == nil {
		return nil, ref, err
	}
	return translateState(st, &link), ref, nil
}

// translateState renames a consuming model's relation state into the
// offering model's view: ids, endpoints and bag owners. Pure.
func translateState(st *relation.State, l *entity.RelationLink) *relation.State {
	out := &relation.State{Relation: st.Relation, Units: map[string]*entity.RelationUnit{}, Apps: map[string]*entity.RelationApp{}}
	out.Relation.ID = l.ID
	out.Relation.Endpoints = make([]entity.Endpoint, len(st.Relation.Endpoints))
	for i, e := range st.Relation.Endpoints {
		e.Application = l.FromConsumer(e.Application)
		out.Relation.Endpoints[i] = e
	}
	out.Relation.Key = entity.RelationKeyOf(out.Relation.Endpoints)
	for name, u := range st.Units {
		cu := *u
		cu.Relation, cu.Unit = l.ID, l.FromConsumer(name)
		out.Units[cu.Unit] = &cu
	}
	for name, a := range st.Apps {
		ca := *a
		ca.Relation, ca.Application = l.ID, l.FromConsumer(name)
		out.Apps[ca.Application] = &ca
	}
	return out
}

// listLinks lists a model's links to consuming models' relations.
func (s *Server) listLinks(ctx context.Context, model string) ([]entity.RelationLink, error) {
	return listDocs[entity.RelationLink](ctx, s.cfg.Store, entity.RelationLinksPrefix(model))
}

func listDocs[T any](ctx context.Context, st *store.Store, prefix string) ([]T, error) {
	kvs, _, err := st.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(kvs))
	for _, kv := range kvs {
		var v T
		if err := store.Decode(kv, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// linkedRelations loads the consuming models' relations an offered
// application's units see, in the offering model's names.
func (s *Server) linkedRelations(ctx context.Context, model, app string) ([]*relation.State, error) {
	links, err := s.listLinks(ctx, model)
	if err != nil {
		return nil, err
	}
	var out []*relation.State
	for i := range links {
		l := &links[i]
		if l.Application != app {
			continue
		}
		st, err := relation.Load(ctx, s.cfg.Store, l.ConsumerModel, l.RelationID)
		if err != nil {
			return nil, err
		}
		if st != nil {
			out = append(out, translateState(st, l))
		}
	}
	return out, nil
}

// mayRead reports whether the caller may read model uuid.
func mayRead(ctx context.Context, uuid string) bool {
	u := callerUser(ctx)
	return u.Superuser || u.ModelAccess(uuid).Includes(entity.AccessRead)
}

// --- offers -----------------------------------------------------------------

// Offer implements apipb.ControllerServer.
func (s *Server) Offer(ctx context.Context, req *apipb.OfferRequest) (*apipb.OfferResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, a, ch, err := s.appAndCharm(ctx, req.Model, req.Application)
	if err != nil {
		return nil, err
	}
	if a.Life != entity.Alive {
		return nil, status.Errorf(codes.FailedPrecondition, "application %q is %s and cannot be offered", a.Name, a.Life)
	}
	name := req.Name
	if name == "" {
		name = a.Name
	}
	if !entity.ValidApplicationName(name) {
		return nil, invalid(fmt.Errorf("invalid offer name %q: use lower-case letters, digits and dashes, starting with a letter", name))
	}
	eps, err := offerEndpoints(ch.Meta, req.Endpoints)
	if err != nil {
		return nil, invalid(err)
	}
	names := make([]string, len(eps))
	for i, e := range eps {
		names[i] = e.Name
	}
	offer := entity.Offer{UUID: entity.NewUUID(), Name: name, Application: a.Name, Endpoints: names, Owner: m.Owner}
	if _, err := ask[*model.OfferAdded](s, m.UUID, &model.AddOffer{Offer: offer}); err != nil {
		return nil, invalid(err)
	}
	return &apipb.OfferResult{Url: entity.OfferURL(s.cfg.Controller.Name, ownerOf(m), m.Name, name)}, nil
}

func ownerOf(m entity.Model) string {
	if m.Owner == "" {
		return "admin"
	}
	return m.Owner
}

// offerEndpoints checks the endpoints to offer against the charm: each
// declared, none a peer endpoint. Pure.
func offerEndpoints(meta *charm.Meta, names []string) ([]charm.Relation, error) {
	if len(names) == 0 {
		return nil, errors.New("no endpoints to offer: give <application>:<endpoint>[,<endpoint>...]")
	}
	var out []charm.Relation
	for _, n := range names {
		if _, peer := meta.Peers[n]; peer {
			return nil, fmt.Errorf("cannot offer peer endpoint %q", n)
		}
		r, ok := meta.Endpoint(n)
		if !ok {
			return nil, fmt.Errorf("application %q has no endpoint %q; see its charm's metadata.yaml", meta.Name, n)
		}
		if !slices.ContainsFunc(out, func(o charm.Relation) bool { return o.Name == n }) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveOffer implements apipb.ControllerServer.
func (s *Server) RemoveOffer(ctx context.Context, req *apipb.RemoveOfferRequest) (*apipb.RemoveOfferResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	var offer entity.Offer
	if _, err := s.cfg.Store.Get(ctx, entity.OfferKey(m.UUID, req.Name), &offer); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, status.Errorf(codes.NotFound, "offer %q not found in model %q; see `troupe offers`", req.Name, m.Name)
		}
		return nil, err
	}
	links, err := s.listLinks(ctx, m.UUID)
	if err != nil {
		return nil, err
	}
	var mine []entity.RelationLink
	for _, l := range links {
		if l.Offer == offer.Name {
			mine = append(mine, l)
		}
	}
	if len(mine) > 0 && !req.Force {
		return nil, status.Errorf(codes.FailedPrecondition, "offer %q has %d relation(s); remove them first, or use --force to remove them with it", offer.Name, len(mine))
	}
	for _, l := range mine {
		if err := s.destroyRelation(l.ConsumerModel, l.RelationID); err != nil {
			return nil, err
		}
	}
	if _, err := ask[*model.OfferRemoved](s, m.UUID, &model.RemoveOffer{Name: offer.Name}); err != nil {
		return nil, invalid(err)
	}
	return &apipb.RemoveOfferResult{}, nil
}

func (s *Server) destroyRelation(model string, id int) error {
	_, err := route[*relation.Done](s, model, modelKindRelation, strconv.Itoa(id), &relation.Destroy{})
	if errors.Is(err, relation.ErrNotFound) {
		return nil
	}
	return err
}

const modelKindRelation = model.KindRelation

// ListOffers implements apipb.ControllerServer.
func (s *Server) ListOffers(ctx context.Context, req *apipb.ListOffersRequest) (*apipb.ListOffersResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	var models []entity.Model
	if req.AllModels {
		all, err := listDocs[entity.Model](ctx, s.cfg.Store, entity.ModelsPrefix)
		if err != nil {
			return nil, err
		}
		for _, m := range all {
			if mayRead(ctx, m.UUID) {
				models = append(models, m)
			}
		}
	} else {
		m, err := s.modelByName(ctx, req.Model)
		if err != nil {
			return nil, err
		}
		if !mayRead(ctx, m.UUID) {
			// Hidden as ListModels hides it: the caller cannot see it.
			return nil, status.Errorf(codes.NotFound, "model %q not found; see `troupe models`", req.Model)
		}
		models = append(models, m)
	}
	res := &apipb.ListOffersResult{}
	for _, m := range models {
		offers, err := s.modelOffers(ctx, m)
		if err != nil {
			return nil, err
		}
		res.Offers = append(res.Offers, offers...)
	}
	return res, nil
}

// modelOffers describes a model's offers with their connections.
func (s *Server) modelOffers(ctx context.Context, m entity.Model) ([]*apipb.OfferInfo, error) {
	offers, err := listDocs[entity.Offer](ctx, s.cfg.Store, entity.OffersPrefix(m.UUID))
	if err != nil || len(offers) == 0 {
		return nil, err
	}
	links, err := s.listLinks(ctx, m.UUID)
	if err != nil {
		return nil, err
	}
	var out []*apipb.OfferInfo
	for _, o := range offers {
		info := &apipb.OfferInfo{Name: o.Name, Uuid: o.UUID, Application: o.Application, Model: m.Name, Owner: ownerOf(m),
			Url: entity.OfferURL(s.cfg.Controller.Name, ownerOf(m), m.Name, o.Name)}
		var a entity.Application
		if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(m.UUID, o.Application), &a); err == nil {
			info.Charm = a.CharmURL
			if ch, err := s.charmBySHA(a.CharmSHA256); err == nil {
				for _, n := range o.Endpoints {
					if r, ok := ch.Meta.Endpoint(n); ok {
						info.Endpoints = append(info.Endpoints, &apipb.RelationEndpoint{Application: o.Application, Name: n,
							Role: string(r.Role), Interface: r.Interface})
					}
				}
			}
		}
		for _, l := range links {
			if l.Offer != o.Name {
				continue
			}
			st, err := relation.Load(ctx, s.cfg.Store, l.ConsumerModel, l.RelationID)
			if err != nil {
				return nil, err
			}
			if st == nil {
				continue // removed since: its link goes with it
			}
			var cm entity.Model
			if _, err := s.cfg.Store.Get(ctx, entity.ModelKey(l.ConsumerModel), &cm); err != nil {
				return nil, err
			}
			c := &apipb.OfferConnection{SourceModel: ownerOf(cm) + "/" + cm.Name, Username: ownerOf(cm), RelationId: int32(l.ID),
				Status: "joined", ConsumerApplication: l.ConsumerApp}
			if ep, ok := st.Relation.Endpoint(l.Alias); ok {
				c.Endpoint = ep.Name
			}
			info.TotalConnectedCount++
			if st.Relation.Life == entity.Alive && !st.Relation.Suspended {
				info.ActiveConnectedCount++
			} else {
				c.Status = "broken"
			}
			info.Connections = append(info.Connections, c)
		}
		out = append(out, info)
	}
	return out, nil
}

// --- consumed offers ----------------------------------------------------------

// Consume implements apipb.ControllerServer. The caller needs write
// access to the consuming model (the rule) and read access to the
// offering one (Juju's consume access on the offer).
func (s *Server) Consume(ctx context.Context, req *apipb.ConsumeRequest) (*apipb.ConsumeResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	b, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	owner := req.OfferOwner
	if owner == "" {
		owner = "admin"
	}
	var auuid string
	if _, err := s.cfg.Store.Get(ctx, entity.ModelNameKey(owner, req.OfferModel), &auuid); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, status.Errorf(codes.NotFound, "offer %s/%s.%s not found: no model %q; see `troupe find-offers`", owner, req.OfferModel, req.OfferName, req.OfferModel)
		}
		return nil, err
	}
	if !mayRead(ctx, auuid) {
		return nil, status.Errorf(codes.PermissionDenied, "permission denied: consuming %s/%s.%s needs read access to model %q", owner, req.OfferModel, req.OfferName, req.OfferModel)
	}
	if auuid == b.UUID {
		return nil, invalid(fmt.Errorf("cannot consume offer %q in its own model %q: integrate with the application directly", req.OfferName, b.Name))
	}
	var a entity.Model
	if _, err := s.cfg.Store.Get(ctx, entity.ModelKey(auuid), &a); err != nil {
		return nil, err
	}
	var offer entity.Offer
	if _, err := s.cfg.Store.Get(ctx, entity.OfferKey(auuid, req.OfferName), &offer); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, status.Errorf(codes.NotFound, "offer %q not found in model %q; see `troupe offers -m %s`", req.OfferName, a.Name, a.Name)
		}
		return nil, err
	}
	_, _, ch, err := s.appAndCharm(ctx, a.Name, offer.Application)
	if err != nil {
		return nil, err
	}
	alias := req.Alias
	if alias == "" {
		alias = offer.Name
	}
	if !entity.ValidApplicationName(alias) {
		return nil, invalid(fmt.Errorf("invalid alias %q: use lower-case letters, digits and dashes, starting with a letter", alias))
	}
	var existing entity.RemoteApplication
	if _, err := s.cfg.Store.Get(ctx, entity.RemoteApplicationKey(b.UUID, alias), &existing); err == nil && existing.OfferUUID == offer.UUID {
		return &apipb.ConsumeResult{Name: alias, Url: existing.URL()}, nil // consumed already: nothing to do
	}
	ra := entity.RemoteApplication{Name: alias, OfferUUID: offer.UUID, OfferName: offer.Name, OfferModel: auuid, ModelName: a.Name,
		Owner: ownerOf(a), Controller: s.cfg.Controller.Name, Life: entity.Alive}
	for _, n := range offer.Endpoints {
		if r, ok := ch.Meta.Endpoint(n); ok {
			scope := string(r.Scope)
			if scope == "" {
				scope = entity.ScopeGlobal
			}
			ra.Endpoints = append(ra.Endpoints, entity.Endpoint{Application: alias, Name: n, Interface: r.Interface, Role: string(r.Role), Scope: scope, Limit: r.Limit})
		}
	}
	if _, err := ask[*model.RemoteApplicationAdded](s, b.UUID, &model.AddRemoteApplication{App: ra}); err != nil {
		return nil, invalid(err)
	}
	return &apipb.ConsumeResult{Name: alias, Url: ra.URL()}, nil
}

// RemoveSaas implements apipb.ControllerServer: the consumed offers'
// relations are destroyed (their units depart on both sides), then the
// entries go.
func (s *Server) RemoveSaas(ctx context.Context, req *apipb.RemoveSaasRequest) (*apipb.RemoveSaasResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	if len(req.Names) == 0 {
		return nil, invalid(errors.New("remove-saas needs the name of at least one consumed offer; see `troupe status`"))
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	for _, n := range req.Names {
		if _, err := s.cfg.Store.Get(ctx, entity.RemoteApplicationKey(m.UUID, n), new(entity.RemoteApplication)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, status.Errorf(codes.NotFound, "SAAS application %q not found in model %q; see `troupe status`", n, m.Name)
			}
			return nil, err
		}
	}
	rels, err := s.listRelations(ctx, m.UUID)
	if err != nil {
		return nil, err
	}
	for _, n := range req.Names {
		for _, r := range rels {
			if _, ok := r.Endpoint(n); ok && r.Remote != nil {
				if err := s.destroyRelation(m.UUID, r.ID); err != nil {
					return nil, err
				}
			}
		}
		if _, err := ask[*model.RemoteApplicationRemoved](s, m.UUID, &model.RemoveRemoteApplication{Name: n}); err != nil {
			return nil, invalid(err)
		}
	}
	return &apipb.RemoveSaasResult{}, nil
}

// --- integrate with a consumed offer ------------------------------------------

// remoteSide resolves an integrate argument naming a consumed offer of
// model m; nil when app is no consumed offer there.
func (s *Server) remoteSide(ctx context.Context, m entity.Model, app string) (*entity.RemoteApplication, *charm.Meta, error) {
	var ra entity.RemoteApplication
	if _, err := s.cfg.Store.Get(ctx, entity.RemoteApplicationKey(m.UUID, app), &ra); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	meta := &charm.Meta{Name: ra.Name, Provides: map[string]charm.Relation{}, Requires: map[string]charm.Relation{}}
	for _, e := range ra.Endpoints {
		r := charm.Relation{Name: e.Name, Interface: e.Interface, Role: charm.Role(e.Role), Limit: e.Limit, Scope: charm.Scope(e.Scope)}
		if r.Role == charm.RoleRequirer {
			meta.Requires[e.Name] = r
		} else {
			meta.Provides[e.Name] = r
		}
	}
	return &ra, meta, nil
}

// integrateRemote adds a relation between a local application and a
// consumed offer: a relation id is reserved in the offering model, then
// the consuming model records the relation and its link there.
func (s *Server) integrateRemote(ctx context.Context, m entity.Model, ra *entity.RemoteApplication, eps [2]entity.Endpoint) (*model.RelationAdded, error) {
	var remote, local entity.Endpoint
	for _, e := range eps {
		if e.Application == ra.Name {
			remote = e
		} else {
			local = e
		}
	}
	if !slices.ContainsFunc(ra.Endpoints, func(e entity.Endpoint) bool { return e.Name == remote.Name }) {
		return nil, invalid(fmt.Errorf("offer %s does not offer endpoint %q; see `troupe status` for its endpoints", ra.URL(), remote.Name))
	}
	var offer entity.Offer
	if _, err := s.cfg.Store.Get(ctx, entity.OfferKey(ra.OfferModel, ra.OfferName), &offer); err != nil || offer.UUID != ra.OfferUUID {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return nil, status.Errorf(codes.FailedPrecondition, "offer %s no longer exists; `troupe remove-saas %s`", ra.URL(), ra.Name)
	}
	var app entity.Application
	if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(ra.OfferModel, offer.Application), &app); err != nil || app.Life != entity.Alive {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return nil, status.Errorf(codes.FailedPrecondition, "the application behind offer %s is gone or dying", ra.URL())
	}
	id, err := ask[*model.RelationIDReserved](s, ra.OfferModel, &model.ReserveRelationID{})
	if err != nil {
		return nil, invalid(err)
	}
	link := entity.RelationLink{ID: id.ID, Offer: offer.Name, Application: offer.Application, Alias: ra.Name,
		ConsumerApp: local.Application, RemoteName: entity.NewRemoteName()}
	return ask[*model.RelationAdded](s, m.UUID, &model.AddRelation{Endpoints: eps,
		Remote: &model.RemoteEnd{OfferModel: ra.OfferModel, Link: link}})
}

// --- status -------------------------------------------------------------------

// crossModelStatus adds a model's offers, its consumed offers and the
// relations its offered applications have with consuming models.
func (s *Server) crossModelStatus(ctx context.Context, m entity.Model, res *apipb.StatusResult) error {
	offers, err := s.modelOffers(ctx, m)
	if err != nil {
		return err
	}
	res.Offers = offers
	links, err := s.listLinks(ctx, m.UUID)
	if err != nil {
		return err
	}
	for i := range links {
		l := &links[i]
		st, err := relation.Load(ctx, s.cfg.Store, l.ConsumerModel, l.RelationID)
		if err != nil {
			return err
		}
		if st == nil {
			continue
		}
		rels := relationStatuses([]entity.Relation{translateState(st, l).Relation})
		res.Relations = append(res.Relations, rels...)
	}
	sort.Slice(res.Relations, func(i, j int) bool { return res.Relations[i].Id < res.Relations[j].Id })
	saas, err := listDocs[entity.RemoteApplication](ctx, s.cfg.Store, entity.RemoteApplicationsPrefix(m.UUID))
	if err != nil {
		return err
	}
	for _, ra := range saas {
		rs := &apipb.RemoteApplicationStatus{Name: ra.Name, Url: ra.URL(), Endpoints: relationEndpoints(ra.Endpoints), Life: string(ra.Life)}
		rs.Status = s.offeredAppStatus(ctx, ra)
		res.RemoteApplications = append(res.RemoteApplications, rs)
	}
	return nil
}

// offeredAppStatus is the status a consumed offer shows: its
// application's, as the offering model's status derives it; terminated
// once the offer or its application is gone.
func (s *Server) offeredAppStatus(ctx context.Context, ra entity.RemoteApplication) *apipb.StatusInfo {
	terminated := &apipb.StatusInfo{Current: "terminated", Message: "offer has been removed"}
	var offer entity.Offer
	if _, err := s.cfg.Store.Get(ctx, entity.OfferKey(ra.OfferModel, ra.OfferName), &offer); err != nil || offer.UUID != ra.OfferUUID {
		return terminated
	}
	var a entity.Application
	if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(ra.OfferModel, offer.Application), &a); err != nil || a.Life == entity.Dead {
		return terminated
	}
	if a.Status.Current != "" {
		return statusInfo(a.Status)
	}
	units, err := listDocs[entity.Unit](ctx, s.cfg.Store, entity.UnitsPrefix(ra.OfferModel, offer.Application))
	if err != nil || len(units) == 0 {
		return &apipb.StatusInfo{Current: "unknown"}
	}
	best := units[0].Workload
	for _, u := range units[1:] {
		if workloadSeverity[u.Workload.Current] > workloadSeverity[best.Current] {
			best = u.Workload
		}
	}
	return statusInfo(best)
}

// workloadSeverity ranks workload statuses as Juju derives an
// application's status from its units' (fullstatus.Severity's order).
var workloadSeverity = map[string]int{"error": 100, "blocked": 90, "maintenance": 80, "waiting": 70, "active": 60, "terminated": 50, "unknown": 40}

// linkWatch widens a unit's watch to the consuming models' relations its
// application is linked to. The set is re-read whenever a link of the
// unit's model changes, before that change is sent, so the agent's
// re-read sees every change from then on.
type linkWatch struct {
	s          *Server
	model, app string
	linkPrefix string
	keys       atomic.Pointer[linkKeys]
	dirty      atomic.Bool
}

type linkKeys struct {
	exact    map[string]bool
	prefixes []string
}

func (s *Server) newLinkWatch(ctx context.Context, model, app string) (*linkWatch, error) {
	w := &linkWatch{s: s, model: model, app: app, linkPrefix: entity.RelationLinksPrefix(model)}
	return w, w.reload(ctx)
}

func (w *linkWatch) reload(ctx context.Context) error {
	links, err := w.s.listLinks(ctx, w.model)
	if err != nil {
		return err
	}
	k := &linkKeys{exact: map[string]bool{}}
	for _, l := range links {
		if l.Application != w.app {
			continue
		}
		k.exact[entity.RelationKey(l.ConsumerModel, l.RelationID)] = true
		k.prefixes = append(k.prefixes, entity.RelationUnitsPrefix(l.ConsumerModel, l.RelationID),
			entity.RelationAppsPrefix(l.ConsumerModel, l.RelationID))
	}
	w.keys.Store(k)
	return nil
}

// relevant is the watch filter's cross-model part.
func (w *linkWatch) relevant(key string) bool {
	if strings.HasPrefix(key, w.linkPrefix) {
		w.dirty.Store(true)
		return true
	}
	k := w.keys.Load()
	if k.exact[key] {
		return true
	}
	for _, p := range k.prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// send wraps a stream's send: a pending link change is re-read first.
func (w *linkWatch) send(ctx context.Context, send func(*apipb.Changed) error) func(*apipb.Changed) error {
	return func(c *apipb.Changed) error {
		if w.dirty.Swap(false) {
			if err := w.reload(ctx); err != nil {
				return status.Errorf(codes.Unavailable, "cannot re-read cross-model relation links: %v", err)
			}
		}
		return send(c)
	}
}
