package controller

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"

	"github.com/troupe-dev/troupe/actors/application"
	"github.com/troupe-dev/troupe/actors/machine"
	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/models"
	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/actors/unit"
	"github.com/troupe-dev/troupe/controller/apiserver"
	"github.com/troupe-dev/troupe/controller/ctlmetrics"
	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/logstore"
	"github.com/troupe-dev/troupe/internal/pki"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/watchhub"
	"github.com/troupe-dev/troupe/providers"
	"github.com/troupe-dev/troupe/workers/cleaner"
	"github.com/troupe-dev/troupe/workers/provisioner"
	"github.com/troupe-dev/troupe/workers/subordinates"
)

// Manifold names of the controller's engine.
const (
	StoreName       = "store"
	ActorSystemName = "actor-system"
	APIServerName   = "api-server"
	ProvisionerName = "provisioner"
	WatchHubName    = "watch-hub"
	CleanerName     = "cleaner"
	LogSinkName     = "log-sink"
	// SubordinatesName keeps one subordinate unit per related principal.
	SubordinatesName = "subordinates"
	MetricsName      = "metrics-server"
)

// ManifoldsConfig configures the controller's manifolds.
type ManifoldsConfig struct {
	DataDir   string
	Bootstrap Bootstrap
	Logger    *slog.Logger
	// Destroyed is called once every instance has been stopped after a
	// DestroyController call; the process then exits.
	Destroyed func()
	// Metrics is the controller's families; nil means Manifolds makes
	// its own.
	Metrics *ctlmetrics.Metrics
}

// Actors is the output of the actor-system manifold.
type Actors struct {
	System   *actor.ActorSystem
	Registry *actor.PID
}

// Manifolds returns the controller's dependency graph:
//
//	store ──▶ actor-system ──▶ api-server
//	  │   └──▶ watch-hub ───────────┤
//	  │        log-sink ────────────┘
//	  └─────────────────────▶ provisioner, cleaner, subordinates
//	  └─────────────────────▶ metrics-server
//
// log-sink is the agents' log store (internal/logstore) under
// <data-dir>/logs; it is not in etcd. The store, the actors' supervision
// and the API server report to the metrics the metrics-server manifold
// serves (metrics.go).
func Manifolds(cfg ManifoldsConfig) dependency.Manifolds {
	if cfg.Metrics == nil {
		cfg.Metrics = ctlmetrics.New()
	}
	cl := newClouds(cfg)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Bootstrap.APIPort))
	return dependency.Manifolds{
		MetricsName: metricsManifold(cfg),
		StoreName: {
			Start: func(ctx context.Context, _ dependency.Getter) (worker.Worker, error) {
				s, err := store.Open(ctx, store.Config{Dir: filepath.Join(cfg.DataDir, "store"), Fast: true, Observer: cfg.Metrics})
				if err != nil {
					return nil, err
				}
				if err := seed(ctx, s, cfg.Bootstrap); err != nil {
					s.Close()
					return nil, fmt.Errorf("cannot seed controller: %w", err)
				}
				cfg.Logger.Info("store open", "epoch", s.Epoch())
				return engine.NewValue(s, func() { s.Close() }), nil
			},
			Output: engine.ValueOutput[*store.Store],
		},
		ActorSystemName: {
			Inputs: []string{StoreName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				var s *store.Store
				if err := g.Get(StoreName, &s); err != nil {
					return nil, err
				}
				sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
					return cfg.Logger.With("component", "actors")
				}))
				strategy := &supervise.Strategy{Logger: cfg.Logger, Observer: cfg.Metrics, Mailboxes: cfg.Metrics}
				reg, err := sys.Root.SpawnNamed(models.Props(models.Config{Store: s, Strategy: strategy}), "models")
				if err != nil {
					return nil, err
				}
				return engine.NewValue(Actors{System: sys, Registry: reg}, func() {
					sys.Root.StopFuture(reg).Wait()
					sys.Shutdown()
				}), nil
			},
			Output: engine.ValueOutput[Actors],
		},
		WatchHubName: {
			Inputs: []string{StoreName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				var s *store.Store
				if err := g.Get(StoreName, &s); err != nil {
					return nil, err
				}
				hub, err := watchhub.New(watchhub.Config{Store: s, Logger: cfg.Logger.With("worker", WatchHubName)})
				if err != nil {
					return nil, err
				}
				return &hubWorker{Worker: engine.Func(hub.Run), hub: hub}, nil
			},
			Output: func(in worker.Worker, out any) error {
				w, ok := in.(*hubWorker)
				p, ok2 := out.(**watchhub.Hub)
				if !ok || !ok2 {
					return fmt.Errorf("watch-hub output: unexpected %T / %T", in, out)
				}
				*p = w.hub
				return nil
			},
		},
		LogSinkName: {
			Start: func(ctx context.Context, _ dependency.Getter) (worker.Worker, error) {
				ls, err := logstore.Open(logstore.Config{Dir: filepath.Join(cfg.DataDir, "logs")})
				if err != nil {
					return nil, err
				}
				return engine.NewValue(ls, func() {
					if err := ls.Close(); err != nil {
						cfg.Logger.Warn("cannot close log store", "err", err)
					}
				}), nil
			},
			Output: engine.ValueOutput[*logstore.Store],
		},
		APIServerName: {
			Inputs: []string{StoreName, ActorSystemName, WatchHubName, LogSinkName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				s, a, err := storeAndActors(g)
				if err != nil {
					return nil, err
				}
				var hub *watchhub.Hub
				if err := g.Get(WatchHubName, &hub); err != nil {
					return nil, err
				}
				var logs *logstore.Store
				if err := g.Get(LogSinkName, &logs); err != nil {
					return nil, err
				}
				certs, err := pki.NewServer(pki.Bundle{CertPEM: []byte(cfg.Bootstrap.CACert), KeyPEM: []byte(cfg.Bootstrap.CAKey)},
					pki.Bundle{CertPEM: []byte(cfg.Bootstrap.ServerCert), KeyPEM: []byte(cfg.Bootstrap.ServerKey)},
					filepath.Join(cfg.DataDir, "server-cert.pem"))
				if err != nil {
					return nil, err
				}
				l, err := net.Listen("tcp", addr)
				if err != nil {
					return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
				}
				var srv *apiserver.Server
				// Destroy runs inside the DestroyController call: every instance
				// is stopped before it answers; the engine then stops
				// gracefully, so the answer still reaches the caller.
				destroy := func() {
					for _, p := range cl.all() {
						destroyAll(p, cfg.Logger)
					}
					cfg.Destroyed()
				}
				tracker := newPresence(cfg.Bootstrap)
				srv = apiserver.New(apiserver.Config{
					Store: s, Hub: hub, Root: a.System.Root, Registry: a.Registry,
					Controller: entity.Controller{UUID: cfg.Bootstrap.UUID, Name: cfg.Bootstrap.Name},
					CharmDir:   filepath.Join(cfg.DataDir, "charms"), Addresses: []string{addr},
					SecretKeyFile: filepath.Join(cfg.DataDir, entity.SecretKeyFile),
					Listener:      l, TLS: certs.TLSConfig(), RotateCert: certs.Rotate,
					Destroy: destroy, Logger: cfg.Logger, Logs: logs, CheckCloud: cl.check,
					UnaryObserver: cfg.Metrics.Unary, StreamObserver: cfg.Metrics.Stream,
					LoginRate: cfg.Bootstrap.LoginRate, LoginBurst: cfg.Bootstrap.LoginBurst, LoginObserver: cfg.Metrics,
					Presence: tracker,
				})
				cfg.Logger.Info("api server listening", "addr", addr)
				return engine.Func(func(ctx context.Context) error {
					defer cfg.Metrics.CountAgentsFrom(s, tracker)()
					credCtx, stopCreds := context.WithCancel(ctx)
					credDone := make(chan struct{})
					go func() { defer close(credDone); _ = srv.RunCredentialCache(credCtx) }()
					defer func() { stopCreds(); <-credDone }()
					errc := make(chan error, 1)
					go func() { errc <- srv.Serve() }()
					cl.attach(srv)
					defer cl.detach()
					select {
					case err := <-errc:
						return err
					case <-ctx.Done():
						srv.GracefulStop(5 * time.Second)
						<-errc
						return nil
					}
				}), nil
			},
		},
		CleanerName: {
			Inputs: []string{StoreName, ActorSystemName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				s, a, err := storeAndActors(g)
				if err != nil {
					return nil, err
				}
				cc := cleaner.Config{Store: s, Entities: entitySetter{a}, Logger: cfg.Logger.With("worker", CleanerName)}
				return engine.Func(func(ctx context.Context) error { return cleaner.Run(ctx, cc) }), nil
			},
		},
		SubordinatesName: {
			Inputs: []string{StoreName, ActorSystemName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				s, a, err := storeAndActors(g)
				if err != nil {
					return nil, err
				}
				sc := subordinates.Config{Store: s, Entities: entitySetter{a}, Logger: cfg.Logger.With("worker", SubordinatesName)}
				return engine.Func(func(ctx context.Context) error { return subordinates.Run(ctx, sc) }), nil
			},
		},
		ProvisionerName: {
			Inputs: []string{StoreName, ActorSystemName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				s, a, err := storeAndActors(g)
				if err != nil {
					return nil, err
				}
				resync, err := cfg.Bootstrap.agentCheckInterval()
				if err != nil {
					return nil, err
				}
				pc := provisioner.Config{Store: s, ProviderFor: cl.providerFor, Machines: machineSetter{a}, Resync: resync,
					Addresses: []string{addr}, CACert: cfg.Bootstrap.CACert, Logger: cfg.Logger.With("worker", ProvisionerName)}
				return engine.Func(func(ctx context.Context) error { return provisioner.Run(ctx, pc) }), nil
			},
		},
	}
}

// storeAndActors fetches the outputs of the store and actor-system
// manifolds.
func storeAndActors(g dependency.Getter) (*store.Store, Actors, error) {
	var s *store.Store
	var a Actors
	if err := g.Get(StoreName, &s); err != nil {
		return nil, a, err
	}
	if err := g.Get(ActorSystemName, &a); err != nil {
		return nil, a, err
	}
	return s, a, nil
}

func destroyAll(p providers.Provider, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	insts, err := p.Instances(ctx)
	if err != nil {
		log.Error("cannot list instances", "err", err)
	}
	for _, in := range insts {
		if err := p.StopInstance(ctx, in.ID); err != nil {
			log.Error("cannot stop instance", "instance", in.ID, "err", err)
		}
	}
}

// entitySetter routes cleaner steps to unit, application and machine actors.
type entitySetter struct{ a Actors }

func (e entitySetter) DestroyUnit(ctx context.Context, mdl, name string) error {
	_, err := supervise.Ask[*unit.Done](e.a.System.Root, e.a.Registry,
		&models.ToModel{UUID: mdl, Msg: &model.Route{Kind: model.KindUnit, ID: name, Msg: &unit.Destroy{}}}, 30*time.Second)
	return err
}

func (e entitySetter) AddSubordinate(ctx context.Context, mdl, app, principal string) error {
	_, err := supervise.Ask[*model.SubordinateAdded](e.a.System.Root, e.a.Registry,
		&models.ToModel{UUID: mdl, Msg: &model.AddSubordinate{App: app, Principal: principal}}, 30*time.Second)
	return err
}

func (e entitySetter) DestroyRelation(ctx context.Context, mdl string, id int) error {
	_, err := supervise.Ask[*relation.Done](e.a.System.Root, e.a.Registry,
		&models.ToModel{UUID: mdl, Msg: &model.Route{Kind: model.KindRelation, ID: strconv.Itoa(id), Msg: &relation.Destroy{}}}, 30*time.Second)
	return err
}

func (e entitySetter) ApplicationDead(ctx context.Context, mdl, name string) error {
	_, err := supervise.Ask[*application.Done](e.a.System.Root, e.a.Registry,
		&models.ToModel{UUID: mdl, Msg: &model.Route{Kind: model.KindApplication, ID: name, Msg: &application.SetDead{}}}, 30*time.Second)
	return err
}

func (e entitySetter) DestroyMachine(ctx context.Context, mdl, id string) error {
	_, err := supervise.Ask[*machine.Done](e.a.System.Root, e.a.Registry,
		&models.ToModel{UUID: mdl, Msg: &model.Route{Kind: model.KindMachine, ID: id, Msg: &machine.Destroy{}}}, 30*time.Second)
	return err
}

func (e entitySetter) DestroyApplication(ctx context.Context, mdl, name string) error {
	_, err := supervise.Ask[*application.Done](e.a.System.Root, e.a.Registry,
		&models.ToModel{UUID: mdl, Msg: &model.Route{Kind: model.KindApplication, ID: name, Msg: &application.Destroy{}}}, 30*time.Second)
	return err
}

func (e entitySetter) RemoveModel(ctx context.Context, mdl string) error {
	_, err := supervise.Ask[*models.ModelRemoved](e.a.System.Root, e.a.Registry, &models.RemoveModel{UUID: mdl}, 30*time.Second)
	return err
}

type hubWorker struct {
	worker.Worker
	hub *watchhub.Hub
}

// machineSetter routes provisioner updates to machine actors.
type machineSetter struct{ a Actors }

func (m machineSetter) ask(model_, id string, msg any) error {
	_, err := supervise.Ask[*machine.Done](m.a.System.Root, m.a.Registry,
		&models.ToModel{UUID: model_, Msg: &model.Route{Kind: model.KindMachine, ID: id, Msg: msg}}, 30*time.Second)
	return err
}

func (m machineSetter) SetProvisioned(ctx context.Context, mdl, id, instance, hash string, inst providers.Instance) error {
	sp := &machine.SetProvisioned{InstanceID: instance, PasswordHash: hash, Hostname: inst.Hostname, Addresses: inst.Addresses}
	if len(inst.Addresses) > 0 {
		sp.Hardware = provisioner.Hardware(inst.Hardware)
	}
	return m.ask(mdl, id, sp)
}

func (m machineSetter) SetDead(ctx context.Context, mdl, id string) error {
	return m.ask(mdl, id, &machine.SetDead{})
}

func (m machineSetter) SetInstanceError(ctx context.Context, mdl, id, message string) error {
	return m.ask(mdl, id, &machine.SetInstanceStatus{Status: entity.Status{Current: "provisioning error", Message: message},
		Agent: &entity.Status{Current: "error", Message: message}})
}
