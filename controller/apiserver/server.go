package apiserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/application"
	actorentity "github.com/troupe-dev/troupe/actors/entity"
	"github.com/troupe-dev/troupe/actors/machine"
	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/models"
	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/actors/unit"
	"github.com/troupe-dev/troupe/controller/presence"
	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/constraints"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/logstore"
	"github.com/troupe-dev/troupe/internal/modelconfig"
	"github.com/troupe-dev/troupe/internal/sealbox"
	"github.com/troupe-dev/troupe/internal/storage"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/watchhub"
)

// Version is the Juju-compatible agent version Troupe reports.
const Version = "3.6.11"

// Config configures the API server.
type Config struct {
	Store      *store.Store
	Hub        *watchhub.Hub
	Root       *actor.RootContext
	Registry   *actor.PID
	Controller entity.Controller
	// CharmDir holds uploaded charm archives by SHA-256.
	CharmDir string
	// Addresses are the API addresses agents are told to dial.
	Addresses []string
	// Listener is the TCP listener to serve on.
	Listener net.Listener
	// CheckCloud, when set, refuses AddModel for a cloud this controller
	// cannot use now (unknown, or its backend unreachable); the error says
	// what to do.
	CheckCloud func(ctx context.Context, cloud string) error
	TLS        *tls.Config
	// RotateCert issues and serves a new server certificate (TLS must
	// take its certificate from the same source); nil: not supported.
	RotateCert func() (*x509.Certificate, error)
	// Destroy stops every instance and then asks the controller to stop;
	// DestroyController answers once it returns.
	Destroy func()
	Logger  *slog.Logger
	// Logs is the agents' log store (SendLogs, DebugLog); see api_logs.go.
	Logs *logstore.Store
	// SecretKeyFile is the key that seals secret content at rest; empty
	// means secrets.key beside CharmDir. Created on first use.
	SecretKeyFile string
	// UnaryObserver and StreamObserver, if set, wrap every call outside
	// authentication (metrics); see observe.go.
	UnaryObserver  grpc.UnaryServerInterceptor
	StreamObserver grpc.StreamServerInterceptor
	// LoginRate (logins per second) and LoginBurst size the agents' login
	// token bucket (loginlimit.go); 0 means the defaults, a negative rate
	// turns limiting off. LoginObserver, if set, counts refusals.
	LoginRate     float64
	LoginBurst    int
	LoginObserver LoginObserver
	// Presence tracks agents' connections (presence.go); nil means a new
	// tracker with no restart grace.
	Presence *presence.Tracker
}

// Server is the API server.
type Server struct {
	apipb.UnimplementedControllerServer
	cfg    Config
	grpc   *grpc.Server
	charms charmCache

	logins   *TokenBucket // nil: agent logins are not limited
	presence *presence.Tracker
	guard    loginGuard   // per-user failed-login backoff and verified-password cache
	creds    *credCache   // agents' credential fields, kept current from the hub (credcache.go); nil without a hub
	streams  agentStreams // open streams per identity, cut on revocation

	sealMu sync.Mutex
	seal   *sealbox.Box // guarded by sealMu; opened on first use
}

// New creates a server; Serve runs it.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, presence: cfg.Presence, logins: newLoginBucket(cfg)}
	if cfg.Hub != nil {
		s.creds = newCredCache(nil)
	}
	if s.presence == nil {
		s.presence = presence.NewTracker(nil, 0, presenceFlap)
	}
	s.grpc = grpc.NewServer(
		grpc.StatsHandler(connTagger{}),
		grpc.KeepaliveParams(serverKeepalive),
		grpc.KeepaliveEnforcementPolicy(keepaliveEnforcement),
		grpc.Creds(credentials.NewTLS(cfg.TLS)),
		grpc.ChainUnaryInterceptor(s.unaryInterceptors()...),
		grpc.ChainStreamInterceptor(s.streamInterceptors()...),
		grpc.MaxRecvMsgSize(api.MaxMessageSize),
		grpc.MaxSendMsgSize(api.MaxMessageSize),
		// Per-connection memory: every agent holds a connection for
		// ever, mostly idle. gRPC's default 32 KB read buffer per
		// connection sits on top of TLS's own record buffer, and its
		// 32 KB write buffer is kept between writes; read straight from
		// TLS and borrow the write buffer from a pool while flushing.
		grpc.ReadBufferSize(0),
		grpc.SharedWriteBuffer(true),
	)
	apipb.RegisterControllerServer(s.grpc, s)
	return s
}

// Serve blocks serving until Stop.
func (s *Server) Serve() error { return s.grpc.Serve(s.cfg.Listener) }

// RunCredentialCache keeps the agents' credential cache current until ctx
// ends (credcache.go). Until it runs, and without a hub, every agent call
// reads its credential from the store.
func (s *Server) RunCredentialCache(ctx context.Context) error {
	if s.creds == nil {
		return nil
	}
	return s.creds.run(ctx, s.cfg.Hub)
}

// GracefulStop stops accepting calls, ends the open streams (watches
// never finish by themselves, and while the old process lingers its
// agents' redial backoff only grows), waits up to grace for running unary
// calls to finish, then closes whatever is left.
func (s *Server) GracefulStop(grace time.Duration) {
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	s.streams.cutAll()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.grpc.Stop()
		<-done
	}
}

const askTimeout = 30 * time.Second

func ask[R any](s *Server, uuid string, msg any) (R, error) {
	return supervise.Ask[R](s.cfg.Root, s.cfg.Registry, &models.ToModel{UUID: uuid, Msg: msg}, askTimeout)
}

func route[R any](s *Server, uuid, kind, id string, msg any) (R, error) {
	return ask[R](s, uuid, &model.Route{Kind: kind, ID: id, Msg: msg})
}

func (s *Server) modelByName(ctx context.Context, name string) (entity.Model, error) {
	var m entity.Model
	if name == "" {
		name = "default"
	}
	var uuid string
	if _, err := s.cfg.Store.Get(ctx, entity.ModelNameKey("admin", name), &uuid); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return m, status.Errorf(codes.NotFound, "model %q not found; see `troupe models`", name)
		}
		return m, err
	}
	_, err := s.cfg.Store.Get(ctx, entity.ModelKey(uuid), &m)
	return m, err
}

// modelUUID resolves a model name (empty: "default") to its UUID for a
// call that needs nothing else of the model, from this member's applied
// state: a name changes owner only when its model is destroyed and the
// name reused, and a name not found locally is looked up again with a
// linearizable read (an HA follower behind the leader).
func (s *Server) modelUUID(ctx context.Context, name string) (uuid, resolved string, err error) {
	if name == "" {
		name = "default"
	}
	key := entity.ModelNameKey("admin", name)
	_, err = s.cfg.Store.GetLocal(ctx, key, &uuid)
	if errors.Is(err, store.ErrNotFound) {
		_, err = s.cfg.Store.Get(ctx, key, &uuid)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", name, status.Errorf(codes.NotFound, "model %q not found; see `troupe models`", name)
	}
	return uuid, name, err
}

func statusInfo(st entity.Status) *apipb.StatusInfo {
	var since int64
	if !st.Since.IsZero() {
		since = st.Since.UnixNano()
	}
	return &apipb.StatusInfo{Current: st.Current, Message: st.Message, SinceUnixNano: since}
}

func fromInfo(st *apipb.StatusInfo) *entity.Status {
	if st == nil {
		return nil
	}
	return &entity.Status{Current: st.Current, Message: st.Message}
}

func modelInfo(m entity.Model) *apipb.ModelInfo {
	return &apipb.ModelInfo{Uuid: m.UUID, Name: m.Name, Owner: m.Owner, Cloud: m.Cloud, Life: string(m.Life), Status: statusInfo(m.Status)}
}

// ControllerInfo implements apipb.ControllerServer.
func (s *Server) ControllerInfo(ctx context.Context, _ *apipb.ControllerInfoRequest) (*apipb.ControllerInfoResult, error) {
	return &apipb.ControllerInfoResult{ControllerUuid: s.cfg.Controller.UUID, ControllerName: s.cfg.Controller.Name, Version: Version}, nil
}

// AddModel implements apipb.ControllerServer.
func (s *Server) AddModel(ctx context.Context, req *apipb.AddModelRequest) (*apipb.ModelInfo, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	cloud := req.Cloud
	if cloud == "" {
		cloud = "localhost"
	}
	if s.cfg.CheckCloud != nil {
		if err := s.cfg.CheckCloud(ctx, cloud); err != nil {
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
	}
	res, err := supervise.Ask[*models.ModelCreated](s.cfg.Root, s.cfg.Registry,
		&models.CreateModel{Name: req.Name, Owner: "admin", Cloud: cloud}, askTimeout)
	if err != nil {
		return nil, invalid(err)
	}
	return modelInfo(res.Model), nil
}

// ListModels implements apipb.ControllerServer.
func (s *Server) ListModels(ctx context.Context, _ *apipb.ListModelsRequest) (*apipb.ListModelsResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	kvs, _, err := s.cfg.Store.List(ctx, entity.ModelsPrefix)
	if err != nil {
		return nil, err
	}
	res := &apipb.ListModelsResult{}
	for _, kv := range kvs {
		var m entity.Model
		if err := json.Unmarshal(kv.Value, &m); err != nil {
			return nil, err
		}
		if !mayListModel(callerUser(ctx), m.UUID) {
			continue
		}
		res.Models = append(res.Models, modelInfo(m))
	}
	return res, nil
}

// Deploy implements apipb.ControllerServer.
func (s *Server) Deploy(ctx context.Context, req *apipb.DeployRequest) (*apipb.DeployResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	if req.NumUnits < 0 {
		return nil, invalid(fmt.Errorf("invalid number of units %d: must be zero or more", req.NumUnits))
	}
	ch, sum, err := s.saveCharm(req.CharmArchive)
	if err != nil {
		return nil, invalid(err)
	}
	user, err := ch.Config.ParseSettingsStrings(req.Config)
	if err != nil {
		return nil, invalid(fmt.Errorf("cannot deploy %q: %w", ch.Meta.Name, err))
	}
	settings := ch.Config.EffectiveSettings(user)
	name := req.Application
	if name == "" {
		name = ch.Meta.Name
	}
	if ch.Meta.Subordinate && req.NumUnits > 0 {
		return nil, invalid(fmt.Errorf("cannot deploy %q with units: it is a subordinate charm; deploy it with -n 0, then `troupe integrate` it with a principal (one unit per principal unit)", name))
	}
	app := entity.Application{Name: name, Settings: settings, UserSettings: user, ConfigHash: settings.Hash(),
		Status: entity.Status{}, Subordinate: ch.Meta.Subordinate, Trust: req.Trust}
	if ch.Manifest != nil && len(ch.Manifest.Bases) > 0 {
		app.BaseName, app.BaseChannel = ch.Manifest.Bases[0].Name, ch.Manifest.Bases[0].Channel
	}
	if app.Storage, err = storage.Resolve(ch.Meta.Storage, req.Storage); err != nil {
		return nil, invalid(fmt.Errorf("cannot deploy %q: %w", name, err))
	}
	if app.Resources, err = s.saveResources(ch.Meta, req.Resources); err != nil {
		return nil, invalid(fmt.Errorf("cannot deploy %q: %w", name, err))
	}
	if name, channel, ok := strings.Cut(req.Base, "@"); ok {
		app.BaseName, app.BaseChannel = name, channel
	}
	if app.Constraints, err = parseConstraints(req.Constraints); err != nil {
		return nil, invalid(fmt.Errorf("cannot deploy %q: %w", name, err))
	}
	res, err := ask[*model.Deployed](s, m.UUID, &model.Deploy{
		Charm:    entity.Charm{Name: ch.Meta.Name, SHA256: sum, Size: int64(len(req.CharmArchive)), Version: ch.Version},
		App:      app,
		NumUnits: int(req.NumUnits),
		Peers:    relation.Peers(name, ch.Meta),
		To:       req.To,
	})
	if err != nil {
		return nil, invalid(err)
	}
	return &apipb.DeployResult{Application: res.Application, CharmUrl: res.CharmURL, Units: res.Units}, nil
}

// saveCharm validates an archive and stores it by content hash.
func (s *Server) saveCharm(archive []byte) (*charm.Charm, string, error) {
	if len(archive) == 0 {
		return nil, "", errors.New("no charm archive supplied")
	}
	sum := sha256.Sum256(archive)
	hexsum := hex.EncodeToString(sum[:])
	if err := os.MkdirAll(s.cfg.CharmDir, 0o700); err != nil {
		return nil, "", err
	}
	path := filepath.Join(s.cfg.CharmDir, hexsum+".charm")
	tmp, err := os.CreateTemp(s.cfg.CharmDir, "upload-*")
	if err != nil {
		return nil, "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(archive); err != nil {
		tmp.Close()
		return nil, "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, "", err
	}
	tmp.Close()
	ch, err := charm.ReadArchive(tmp.Name())
	if err != nil {
		return nil, "", fmt.Errorf("invalid charm: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, "", err
	}
	return ch, hexsum, nil
}

// Status implements apipb.ControllerServer.
func (s *Server) Status(ctx context.Context, req *apipb.StatusRequest) (*apipb.StatusResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	kvs, _, err := s.cfg.Store.List(ctx, entity.ModelPrefix(m.UUID))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	lostAfter := modelconfig.Effective(m.Config).LostAfter
	apps := map[string]*apipb.ApplicationStatus{}
	var leaders = map[string]string{}
	var units []*apipb.UnitStatus
	var rels []entity.Relation
	res := &apipb.StatusResult{Model: modelInfo(m), ControllerName: s.cfg.Controller.Name, Version: Version}
	prefix := entity.ModelPrefix(m.UUID)
	for _, kv := range kvs {
		rest := strings.TrimPrefix(kv.Key, prefix)
		kind, _, _ := strings.Cut(rest, "/")
		switch kind {
		case "app":
			var a entity.Application
			if err := json.Unmarshal(kv.Value, &a); err != nil {
				a = entity.Application{Name: strings.TrimPrefix(rest, "app/"), Life: entity.Alive,
					Status: entity.Status{Current: "error", Message: fmt.Sprintf("cannot decode application document: %v", err)}}
			}
			if a.Life == entity.Dead {
				continue // removed: gone from status
			}
			if p, ok := m.Parked[model.KindApplication+"/"+a.Name]; ok {
				a.Status = entity.Status{Current: "error", Message: parkedMessage(p), Since: p.Since}
			}
			leaders[a.Name] = a.LeaderAt(now)
			apps[a.Name] = &apipb.ApplicationStatus{Name: a.Name, CharmName: a.CharmName, CharmUrl: a.CharmURL,
				CharmRev: int32(a.CharmRev), CharmVersion: a.CharmVersion, WorkloadVersion: a.WorkloadVersion,
				Life: string(a.Life), Status: statusInfo(a.Status), BaseName: a.BaseName, BaseChannel: a.BaseChannel,
				Subordinate: a.Subordinate}
		case "unit":
			var u entity.Unit
			if err := json.Unmarshal(kv.Value, &u); err != nil {
				// One unreadable document must not hide the model: show
				// the unit in error with the reason.
				name := strings.TrimPrefix(rest, "unit/")
				u = entity.Unit{Name: name, Life: entity.Alive, Workload: entity.Status{Current: "error",
					Message: fmt.Sprintf("cannot decode unit document: %v", err)}}
			}
			if u.Life == entity.Dead {
				continue // removed: gone from status
			}
			workload, agent := displayUnitStatus(u)
			workload, agent = unitPresenceStatus(u.Name, s.agentPresence(entity.Tag{Kind: entity.KindUnit, Model: m.UUID, Name: u.Name}, lostAfter), lostAfter, workload, agent)
			if p, ok := m.Parked[model.KindUnit+"/"+u.Name]; ok {
				workload = entity.Status{Current: "error", Message: parkedMessage(p), Since: p.Since}
			}
			units = append(units, &apipb.UnitStatus{Name: u.Name, Machine: u.Machine, Life: string(u.Life),
				Workload: statusInfo(workload), Agent: statusInfo(agent), Principal: u.Principal, OpenPorts: statusPorts(u)})
		case "storage":
			res.Storage = appendStorageStatus(res.Storage, kv) // api_storage.go
		case "relation":
			var r entity.Relation
			if err := json.Unmarshal(kv.Value, &r); err != nil {
				return nil, err
			}
			rels = append(rels, r)
		case "machine":
			var mc entity.Machine
			if err := json.Unmarshal(kv.Value, &mc); err != nil {
				mc = entity.Machine{ID: strings.TrimPrefix(rest, "machine/"), Life: entity.Alive,
					Agent: entity.Status{Current: "error", Message: fmt.Sprintf("cannot decode machine document: %v", err)}}
			}
			if mc.Life == entity.Dead {
				continue
			}
			mc.Agent = machinePresenceStatus(s.agentPresence(entity.Tag{Kind: entity.KindMachine, Model: m.UUID, Name: mc.ID}, lostAfter), lostAfter, mc.Agent)
			if p, ok := m.Parked[model.KindMachine+"/"+mc.ID]; ok {
				mc.Agent = entity.Status{Current: "error", Message: parkedMessage(p), Since: p.Since}
			}
			res.Machines = append(res.Machines, &apipb.MachineStatus{Id: mc.ID, Life: string(mc.Life), InstanceId: mc.InstanceID,
				Agent: statusInfo(mc.Agent), Instance: statusInfo(mc.Instance), Hostname: mc.Hostname, Addresses: mc.Addresses,
				BaseName: mc.BaseName, BaseChannel: mc.BaseChannel, Constraints: constraints.Format(mc.Constraints), Hardware: mc.Hardware})
		}
	}
	addrs := map[string]string{}
	for _, mc := range res.Machines {
		if len(mc.Addresses) > 0 {
			addrs[mc.Id] = mc.Addresses[0]
		}
	}
	for _, u := range units {
		u.Address = addrs[u.Machine]
		if u.Address == "" {
			u.Address = defaultUnitAddress
		}
		app, _, _ := entity.SplitUnitName(u.Name)
		a, ok := apps[app]
		if !ok {
			continue
		}
		u.Leader = leaders[app] == u.Name
		a.Units = append(a.Units, u)
	}
	names := make([]string, 0, len(apps))
	for n := range apps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		res.Applications = append(res.Applications, apps[n])
	}
	res.Relations = relationStatuses(rels)
	addSubordinateTo(res.Applications, rels)
	if err := s.crossModelStatus(ctx, m, res); err != nil {
		return nil, err
	}
	return res, nil
}

// parkedMessage is the status message of a parked entity.
func parkedMessage(p entity.ParkedEntity) string {
	return "parked in error after repeated failures: " + p.Reason
}

// displayUnitStatus applies Juju's presentation rule: a unit agent in a
// hook error shows as workload `error` with the hook message and agent
// `idle`.
func displayUnitStatus(u entity.Unit) (workload, agent entity.Status) {
	if u.Agent.Current == "error" {
		return entity.Status{Current: "error", Message: u.Agent.Message, Since: u.Agent.Since},
			entity.Status{Current: "idle", Since: u.Agent.Since}
	}
	return u.Workload, u.Agent
}

// ResolveUnit implements apipb.ControllerServer.
func (s *Server) ResolveUnit(ctx context.Context, req *apipb.ResolveUnitRequest) (*apipb.ResolveUnitResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	if _, _, ok := entity.SplitUnitName(req.Unit); !ok {
		return nil, invalid(fmt.Errorf("invalid unit name %q: expected <application>/<number>", req.Unit))
	}
	// Straight to the unit's actor, which owns the document: it answers
	// not-found, not-in-error, or (for a unit it cannot load) an error.
	if _, err := route[*unit.Done](s, m.UUID, model.KindUnit, req.Unit, &unit.Resolve{NoRetry: req.NoRetry}); err != nil {
		if errors.Is(err, actorentity.ErrNotFound) {
			return nil, status.Errorf(codes.NotFound, "unit %q not found", req.Unit)
		}
		return nil, invalid(err)
	}
	return &apipb.ResolveUnitResult{}, nil
}

// ClearResolved implements apipb.ControllerServer.
func (s *Server) ClearResolved(ctx context.Context, req *apipb.ClearResolvedRequest) (*apipb.ClearResolvedResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	_, err = route[*unit.Done](s, tag.Model, model.KindUnit, req.Unit, &unit.ClearResolved{})
	return &apipb.ClearResolvedResult{}, err
}

// DestroyController implements apipb.ControllerServer.
func (s *Server) DestroyController(ctx context.Context, _ *apipb.DestroyControllerRequest) (*apipb.DestroyControllerResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	if s.cfg.Destroy == nil {
		return nil, status.Error(codes.Unimplemented, "this controller cannot be destroyed through the API")
	}
	s.cfg.Destroy()
	return &apipb.DestroyControllerResult{}, nil
}

// --- machine agents ---------------------------------------------------------

// watch streams level-triggered change notifications: an immediate
// baseline, then one Changed per store revision that touches a key the
// filter selects. A subscription that falls behind resumes from its last
// revision; one whose revision was compacted sends a fresh baseline (the
// agent re-reads state anyway) and resubscribes.
func (s *Server) watch(ctx context.Context, send func(*apipb.Changed) error, relevant func(key string) bool) error {
	return s.watchKept(ctx, send, relevant, nil)
}

// watchKept is watch with a second filter, keep, run on the stream's own
// goroutine for each event relevant selected (the baseline marker
// included): it may decode the value and keep state of its own. Nil keeps
// every event.
func (s *Server) watchKept(ctx context.Context, send func(*apipb.Changed) error, relevant func(key string) bool, keep func(watchhub.Event) bool) error {
	var from, last int64
	for {
		sub, err := s.cfg.Hub.Subscribe(ctx, watchhub.SubscribeRequest{Filter: relevant, FromRevision: from})
		if err != nil {
			return status.Errorf(codes.Unavailable, "cannot watch: %v", err)
		}
		err = func() error {
			defer sub.Close()
			for {
				ev, err := sub.Next(ctx)
				if err != nil {
					return err
				}
				if ev.Revision == last {
					continue // several keys of one revision: one notification
				}
				if keep != nil && !keep(ev) {
					continue
				}
				last = ev.Revision
				if err := send(&apipb.Changed{Revision: ev.Revision}); err != nil {
					return err
				}
			}
		}()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, watchhub.ErrSlowSubscriber):
			from = last
		case errors.Is(err, watchhub.ErrCompacted):
			from = 0
		default:
			return status.Errorf(codes.Unavailable, "watch ended: %v", err)
		}
	}
}

// WatchMachine implements apipb.ControllerServer.
func (s *Server) WatchMachine(req *apipb.WatchMachineRequest, stream apipb.Controller_WatchMachineServer) error {
	tag, err := requireMachine(stream.Context(), req.Machine)
	if err != nil {
		return err
	}
	unitPrefix := entity.ModelPrefix(tag.Model) + "unit/"
	mkey := entity.MachineKey(tag.Model, req.Machine)
	// Unit keys carry no machine id, so the hub selects every unit change
	// of the model and machineUnitChanges (watch_machine.go) keeps those
	// that change the machine's units or their life: a status change of
	// any unit must not make every machine re-list the model's units.
	keep := newMachineUnitChanges(req.Machine, unitPrefix)
	return s.watchKept(stream.Context(), stream.Send, func(k string) bool {
		return k == mkey || strings.HasPrefix(k, unitPrefix)
	}, keep.keep)
}

// MachineUnits implements apipb.ControllerServer.
func (s *Server) MachineUnits(ctx context.Context, req *apipb.MachineUnitsRequest) (*apipb.MachineUnitsResult, error) {
	tag, err := requireMachine(ctx, req.Machine)
	if err != nil {
		return nil, err
	}
	kvs, _, err := s.cfg.Store.List(ctx, entity.ModelPrefix(tag.Model)+"unit/")
	if err != nil {
		return nil, err
	}
	res := &apipb.MachineUnitsResult{ModelUuid: tag.Model}
	needle := machineField(req.Machine)
	for _, kv := range kvs {
		// Every machine's deployer lists the model's units after each
		// change to one of its own, and decoding every document was most
		// of the controller's CPU during a large deploy. Documents are
		// written by json.Marshal (store.Put), so a unit placed on this
		// machine contains needle verbatim: only those are decoded (a
		// match elsewhere in a document is decoded and checked too), and
		// only their placement fields.
		if !bytes.Contains(kv.Value, needle) {
			continue
		}
		var u struct {
			Name    string      `json:"name"`
			Machine string      `json:"machine"`
			Life    entity.Life `json:"life"`
		}
		if err := json.Unmarshal(kv.Value, &u); err != nil {
			// Skipped, not fatal: one bad document must not stop every
			// machine's deployer (the unit's actor reports it in status).
			s.logger().Error("skipping undecodable unit document", "key", kv.Key, "err", err)
			continue
		}
		if u.Machine == req.Machine {
			res.Units = append(res.Units, &apipb.AssignedUnit{Name: u.Name, Life: string(u.Life)})
		}
	}
	return res, nil
}

// machineField is how a unit document placed on machine id spells its
// machine field in store.Put's JSON encoding.
func machineField(id string) []byte {
	v, _ := json.Marshal(id) // a string always encodes
	return append([]byte(`"machine":`), v...)
}

// SetMachineStatus implements apipb.ControllerServer.
func (s *Server) SetMachineStatus(ctx context.Context, req *apipb.SetMachineStatusRequest) (*apipb.SetMachineStatusResult, error) {
	tag, err := requireMachine(ctx, req.Machine)
	if err != nil {
		return nil, err
	}
	st := fromInfo(req.Status)
	if st == nil {
		return nil, invalid(errors.New("no status given"))
	}
	_, err = route[*machine.Done](s, tag.Model, model.KindMachine, req.Machine,
		&machine.SetAgentStatus{Status: *st, Hostname: req.Hostname, Addresses: req.Addresses})
	return &apipb.SetMachineStatusResult{}, err
}

// IssueUnitCredential implements apipb.ControllerServer.
func (s *Server) IssueUnitCredential(ctx context.Context, req *apipb.IssueUnitCredentialRequest) (*apipb.IssueUnitCredentialResult, error) {
	tag := callerFrom(ctx)
	if tag.Kind != entity.KindMachine {
		return nil, errPerm
	}
	var u entity.Unit
	if _, err := s.cfg.Store.Get(ctx, entity.UnitKey(tag.Model, req.Unit), &u); err != nil || u.Machine != tag.Name {
		return nil, errPerm
	}
	pw := entity.NewPassword()
	if _, err := route[*unit.Done](s, tag.Model, model.KindUnit, req.Unit, &unit.SetPasswordHash{Hash: entity.HashPassword(pw)}); err != nil {
		return nil, err
	}
	ut := entity.Tag{Kind: entity.KindUnit, Name: req.Unit, Model: tag.Model}
	s.refreshCreds(ut) // the unit's previous credential is refused from now on
	return &apipb.IssueUnitCredentialResult{Tag: ut.String(), Password: pw}, nil
}

// --- unit agents --------------------------------------------------------------

// WatchUnit implements apipb.ControllerServer.
func (s *Server) WatchUnit(req *apipb.WatchUnitRequest, stream apipb.Controller_WatchUnitServer) error {
	tag, err := requireUnit(stream.Context(), req.Unit)
	if err != nil {
		return err
	}
	app, _, _ := entity.SplitUnitName(req.Unit)
	ukey, akey := entity.UnitKey(tag.Model, req.Unit), entity.ApplicationKey(tag.Model, app)
	// Relation changes of the whole model notify: relation keys carry ids,
	// not application names, and the agent's re-read is what filters. A
	// per-application relation index would make this exact. Pending-task
	// markers: an action enqueued for the unit, or one leaving pending
	// (started, cancelled), notifies it. The model document carries
	// model-config, which reaches the uniter through its snapshot.
	mp := entity.ModelPrefix(tag.Model)
	mkey := entity.ModelKey(tag.Model)
	prefixes := []string{mp + "relation/", mp + "relation-unit/", mp + "relation-app/", entity.PendingTasksPrefix(tag.Model, req.Unit),
		entity.SecretsPrefix(tag.Model), entity.StoragePrefix(tag.Model)}
	links, err := s.newLinkWatch(stream.Context(), tag.Model, app)
	if err != nil {
		return err
	}
	// The unit's own reports and its leader's lease renewals do not
	// notify (watch_unit.go).
	docs := newDocChanges(map[string][]string{ukey: unitReportFields, akey: applicationReportFields})
	return s.watchKept(stream.Context(), links.send(stream.Context(), stream.Send), func(k string) bool {
		if k == ukey || k == akey || k == mkey || links.relevant(k) {
			return true
		}
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				return true
			}
		}
		return false
	}, docs.keep)
}

// UnitSnapshot implements apipb.ControllerServer.
func (s *Server) UnitSnapshot(ctx context.Context, req *apipb.UnitSnapshotRequest) (*apipb.UnitSnapshotResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	var u entity.Unit
	if _, err := s.cfg.Store.Get(ctx, entity.UnitKey(tag.Model, req.Unit), &u); err != nil {
		return nil, err
	}
	var a entity.Application
	if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(tag.Model, u.Application), &a); err != nil {
		return nil, err
	}
	var m entity.Model
	if _, err := s.cfg.Store.Get(ctx, entity.ModelKey(tag.Model), &m); err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(a.Settings)
	if err != nil {
		return nil, err
	}
	mc := modelconfig.Effective(m.Config)
	if a.Settings == nil {
		cfg = []byte("{}")
	}
	rels, err := s.unitRelations(ctx, tag.Model, u)
	if err != nil {
		return nil, err
	}
	pending, err := s.pendingTasks(ctx, tag.Model, req.Unit)
	if err != nil {
		return nil, err
	}
	secretEvents, secretDue, err := s.unitSecretEvents(ctx, tag.Model, u)
	if err != nil {
		return nil, err
	}
	storage, err := s.unitStorageSnapshot(ctx, tag.Model, u.Name) // api_storage.go
	if err != nil {
		return nil, err
	}
	return &apipb.UnitSnapshotResult{Storage: storage, SecretEvents: secretEvents, SecretNextDueMs: secretDue, Relations: rels, CharmState: u.CharmState,
		ActionsPending: pending, OpenPorts: unitPorts(u),
		LeaderSettings: a.LeaderSettings, LeaderSettingsVersion: a.LeaderSettingsVersion, Unit: u.Name, Life: string(u.Life), Application: a.Name, CharmUrl: a.CharmURL,
		CharmSha256: a.CharmSHA256, ConfigJson: cfg, ConfigHash: a.ConfigHash, ModelName: m.Name, ModelUuid: m.UUID,
		Machine: u.Machine, Workload: statusInfo(u.Workload), Agent: statusInfo(u.Agent),
		ApplicationStatus: statusInfo(a.Status), ApiAddresses: s.cfg.Addresses, Address: s.unitAddress(ctx, tag.Model, u.Machine),
		Resolved: u.Resolved, Principal: u.Principal, AutomaticallyRetryHooks: mc.AutomaticallyRetryHooks,
		UpdateStatusIntervalMs: mc.UpdateStatusHookInterval.Milliseconds()}, nil
}

// GetCharm implements apipb.ControllerServer.
func (s *Server) GetCharm(ctx context.Context, req *apipb.GetCharmRequest) (*apipb.GetCharmResult, error) {
	tag := callerFrom(ctx)
	if tag.Kind == entity.KindUser {
		return nil, errPerm
	}
	var ch entity.Charm
	if _, err := s.cfg.Store.Get(ctx, entity.CharmKey(tag.Model, req.CharmUrl), &ch); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, status.Errorf(codes.NotFound, "charm %q not found", req.CharmUrl)
		}
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(s.cfg.CharmDir, ch.SHA256+".charm"))
	if err != nil {
		return nil, fmt.Errorf("cannot read charm %s: %w", ch.URL, err)
	}
	sum := sha256.Sum256(data)
	if !bytes.Equal([]byte(hex.EncodeToString(sum[:])), []byte(ch.SHA256)) {
		return nil, fmt.Errorf("charm %s is corrupt on the controller", ch.URL)
	}
	return &apipb.GetCharmResult{CharmUrl: ch.URL, Sha256: ch.SHA256, Archive: data}, nil
}

// SetUnitStatus implements apipb.ControllerServer.
func (s *Server) SetUnitStatus(ctx context.Context, req *apipb.SetUnitStatusRequest) (*apipb.SetUnitStatusResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	if req.Application != nil {
		app, _, _ := entity.SplitUnitName(req.Unit)
		if _, err := route[*application.Done](s, tag.Model, model.KindApplication, app,
			&application.SetStatus{Unit: req.Unit, Status: *fromInfo(req.Application)}); err != nil {
			if errors.Is(err, application.ErrNotLeader) {
				return nil, status.Error(codes.PermissionDenied, err.Error())
			}
			return nil, err
		}
	}
	if req.Workload != nil || req.Agent != nil {
		if _, err := route[*unit.Done](s, tag.Model, model.KindUnit, req.Unit,
			&unit.SetStatus{Workload: fromInfo(req.Workload), Agent: fromInfo(req.Agent)}); err != nil {
			return nil, err
		}
	}
	return &apipb.SetUnitStatusResult{}, nil
}

// SetApplicationVersion implements apipb.ControllerServer.
func (s *Server) SetApplicationVersion(ctx context.Context, req *apipb.SetApplicationVersionRequest) (*apipb.SetApplicationVersionResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	app, _, _ := entity.SplitUnitName(req.Unit)
	_, err = route[*application.Done](s, tag.Model, model.KindApplication, app, &application.SetWorkloadVersion{Version: req.Version})
	return &apipb.SetApplicationVersionResult{}, err
}

// ClaimLeadership implements apipb.ControllerServer.
func (s *Server) ClaimLeadership(ctx context.Context, req *apipb.ClaimLeadershipRequest) (*apipb.ClaimLeadershipResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	app, _, _ := entity.SplitUnitName(req.Unit)
	res, err := route[*application.LeadershipClaimed](s, tag.Model, model.KindApplication, app,
		&application.ClaimLeadership{Unit: req.Unit, Duration: time.Duration(req.DurationMs) * time.Millisecond})
	if err != nil {
		return nil, invalid(err)
	}
	return &apipb.ClaimLeadershipResult{Held: res.Held, Leader: res.Leader, ExpiresInMs: max(0, time.Until(res.Expiry).Milliseconds())}, nil
}

func (s *Server) logger() *slog.Logger {
	if s.cfg.Logger != nil {
		return s.cfg.Logger
	}
	return slog.Default()
}
