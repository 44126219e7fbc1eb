// Package machineagent assembles the machine agent: a juju/worker/v4
// dependency engine whose deployer runs one unit agent engine in-process
// per unit assigned to the machine.
//
//	agent ──▶ api-caller ──▶ machiner
//	              ├────────▶ deployer ──▶ unit agents (nested engines)
//	              ├────────▶ log-sender
//	              ├────────▶ machine-exec (`troupe exec --machine` tasks)
//	              └────────▶ credential (new agent credential → agent.conf, reload)
//
// The machine agent's own lines (the deployer's) are buffered in
// Config.Logs and sent by its log-sender; each unit agent has its own
// buffer and log-sender, so a line is sent once, by the agent it is about.
//
//	metrics (registry + HTTP endpoint; unit agents report to it)
//
// Who imports it: cmd/trouped. It never imports controller code.
package machineagent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/agentmanifold"
	"github.com/troupe-dev/troupe/internal/agentmetrics"
	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/internal/machinelock"
	"github.com/troupe-dev/troupe/unitagent"
	"github.com/troupe-dev/troupe/workers/logsender"
	"github.com/troupe-dev/troupe/workers/machineexec"
)

// Manifold names.
const (
	AgentName      = "agent"
	APICallerName  = "api-caller"
	MachinerName   = "machiner"
	DeployerName   = "deployer"
	LogSenderName  = "log-sender"
	MetricsName    = "metrics"
	ExecName       = "machine-exec"
	CredentialName = "credential"
)

// Config configures the machine agent.
type Config struct {
	DataDir  string
	HookTool string
	// Pebble is the pebble binary for charms with containers, and
	// MountHelper the binary giving their hooks a private
	// /charm/containers (troupe-mountns, next to trouped); see unitagent.Config.
	Pebble      string
	MountHelper string
	Logger      *slog.Logger // agent.log
	// Logs buffers the machine agent's log records for its log-sender;
	// nil means a new buffer per Manifolds call.
	Logs *logsender.Buffer
	// Reports receives the unit agents' engines for introspection; nil
	// means no introspection.
	Reports *Reports
	// Metrics is the agent's families; nil means Manifolds makes its own.
	Metrics *agentmetrics.Machine
	// MetricsAddress is where the metrics endpoint listens; empty means a
	// free loopback port. The bound address is written to
	// DataDir/metrics.addr.
	MetricsAddress string
	// Pool is the API transport the machine agent and its unit agents
	// share (one connection to the controller per process); nil means
	// Manifolds makes one.
	Pool *api.Pool
}

// Manifolds returns the machine agent's dependency graph.
func Manifolds(cfg Config) dependency.Manifolds {
	if cfg.Logs == nil {
		cfg.Logs = logsender.NewBuffer(0)
	}
	base := cfg.Logger
	if base == nil {
		base = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = base
	mlog := logsender.Logger(base, cfg.Logs, "juju.worker.deployer")
	lock := &machinelock.Lock{Path: filepath.Join(cfg.DataDir, "machine-lock"), LogPath: filepath.Join(cfg.DataDir, "machine-lock.log")}
	if cfg.Pool == nil {
		cfg.Pool = api.NewPool()
	}
	cfg.Metrics = withMetrics(cfg, lock)
	if cfg.Reports != nil {
		cfg.Reports.setLock(lock)
	}
	return dependency.Manifolds{
		MetricsName:   metricsManifold(cfg),
		AgentName:     agentmanifold.Agent(cfg.DataDir),
		APICallerName: agentmanifold.APICaller(AgentName, cfg.Pool, func(api.AgentConfig) { cfg.Metrics.Redialed(agentmetrics.MachineAgent) }),
		MachinerName: {
			Inputs: []string{AgentName, APICallerName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				c, conn, err := agentmanifold.Inputs(g, AgentName, APICallerName)
				if err != nil {
					return nil, err
				}
				return engine.Func(func(ctx context.Context) error {
					host, _ := os.Hostname()
					if _, err := conn.SetMachineStatus(ctx, &apipb.SetMachineStatusRequest{Machine: c.Machine,
						// No addresses: the provider recorded where the
						// machine is reached (a container's bridge address).
						Status: &apipb.StatusInfo{Current: "started"}, Hostname: host}); err != nil {
						return fmt.Errorf("cannot report machine started: %w", err)
					}
					<-ctx.Done()
					return nil
				}), nil
			},
		},
		DeployerName: {
			Inputs: []string{AgentName, APICallerName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				c, conn, err := agentmanifold.Inputs(g, AgentName, APICallerName)
				if err != nil {
					return nil, err
				}
				d := &deployer{cfg: cfg, agent: c, conn: conn, lock: lock, log: mlog, logs: map[string]*logsender.Buffer{}}
				return engine.Func(d.run), nil
			},
		},
		ExecName: {
			Inputs: []string{AgentName, APICallerName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				c, conn, err := agentmanifold.Inputs(g, AgentName, APICallerName)
				if err != nil {
					return nil, err
				}
				ec := machineexec.Config{API: conn, Machine: c.Machine, Lock: lock, Dir: cfg.DataDir,
					Logger: logsender.Logger(base, cfg.Logs, "juju.worker.machineexec")}
				return engine.Func(func(ctx context.Context) error { return machineexec.Run(ctx, ec) }), nil
			},
		},
		CredentialName: {
			Inputs: []string{AgentName, APICallerName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				c, conn, err := agentmanifold.Inputs(g, AgentName, APICallerName)
				if err != nil {
					return nil, err
				}
				var reload agentmanifold.Reloader
				if err := g.Get(AgentName, &reload); err != nil {
					return nil, err
				}
				w := &credentialWorker{dir: cfg.DataDir, agent: c, conn: conn, reload: reload,
					log: logsender.Logger(base, cfg.Logs, "juju.worker.credential")}
				return engine.Func(w.run), nil
			},
		},
		LogSenderName: {
			Inputs: []string{AgentName, APICallerName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				_, conn, err := agentmanifold.Inputs(g, AgentName, APICallerName)
				if err != nil {
					return nil, err
				}
				lc := logsender.Config{API: conn, Buffer: cfg.Logs}
				return engine.Func(func(ctx context.Context) error { return logsender.Run(ctx, lc) }), nil
			},
		},
	}
}

// deployer starts a unit agent for every alive unit assigned to the
// machine, each in its own engine under a runner (so several units placed
// on one machine run side by side, serialised only by the machine lock),
// and stops the agent of a unit once it is dead.
type deployer struct {
	cfg   Config
	agent api.AgentConfig
	conn  *api.Conn
	lock  *machinelock.Lock
	log   *slog.Logger // the machine agent's own lines (buffered for its log-sender)
	// logs holds each unit's log buffer, kept across restarts of its
	// engine; owned by run's goroutine.
	logs map[string]*logsender.Buffer
}

func unitDirName(unit string) string { return "unit-" + strings.ReplaceAll(unit, "/", "-") }

func (d *deployer) run(ctx context.Context) error {
	runner, err := worker.NewRunner(worker.RunnerParams{Name: "deployer", IsFatal: func(error) bool { return false },
		RestartDelay: 3e9, Logger: engine.Logger(d.cfg.Logger)})
	if err != nil {
		return err
	}
	defer func() { runner.Kill(); runner.Wait() }()
	started := map[string]bool{}
	// Units deployed before (credential on disk) start at once, so an
	// agent restarted while the controller is unreachable runs them.
	confs, _ := filepath.Glob(filepath.Join(d.cfg.DataDir, "agents", "unit-*", api.AgentConfigFile))
	for _, p := range confs {
		if c, err := api.ReadAgentConfig(filepath.Dir(p)); err == nil && c.Unit != "" {
			if err := d.start(ctx, runner, started, c.Unit); err != nil {
				return err
			}
		}
	}
	for {
		err := d.follow(ctx, runner, started)
		if ctx.Err() != nil {
			return nil
		}
		if !watchAgain(err) {
			return err
		}
		// Offline or throttled: unit agents (workloads, hooks) keep
		// running; watch again once the link may be back. (Returning
		// would stop every unit agent of the machine with the runner.)
		d.log.Info("controller unreachable; unit agents keep running", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
}

// watchAgain is the deployer's decision on its watch failing: the
// controller unreachable, or refusing the login for its rate limit (a
// reconnect storm), is waited out in place; anything else stops the
// deployer.
func watchAgain(err error) bool { return unreachable(err) || api.IsLoginThrottled(err) }

// unreachable reports whether err means the controller could not be
// reached (as opposed to a refusal).
func unreachable(err error) bool {
	s, ok := status.FromError(err) // unwraps
	return ok && err != nil && (s.Code() == codes.Unavailable || s.Code() == codes.DeadlineExceeded)
}

// follow watches the machine and starts and stops unit agents to match
// its units until the watch fails.
func (d *deployer) follow(ctx context.Context, runner *worker.Runner, started map[string]bool) error {
	stream, err := d.conn.WatchMachine(ctx, &apipb.WatchMachineRequest{Machine: d.agent.Machine})
	if err != nil {
		return err
	}
	for {
		if _, err := stream.Recv(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("machine watch stopped: %w", err)
		}
		res, err := d.conn.MachineUnits(ctx, &apipb.MachineUnitsRequest{Machine: d.agent.Machine})
		if err != nil {
			return err
		}
		listed := map[string]bool{}
		for _, u := range res.Units {
			listed[u.Name] = true
			if started[u.Name] && u.Life == "dead" {
				d.stop(ctx, runner, started, u.Name)
				continue
			}
			if started[u.Name] || u.Life == "dead" {
				continue
			}
			if err := d.start(ctx, runner, started, u.Name); err != nil {
				return err
			}
		}
		for name := range started {
			if !listed[name] { // started from disk but gone from the model
				d.stop(ctx, runner, started, name)
			}
		}
	}
}

func (d *deployer) stop(ctx context.Context, runner *worker.Runner, started map[string]bool, name string) {
	// Its tear-down is done; the machine may still host others.
	if err := runner.StopAndRemoveWorker(name, ctx.Done()); err != nil && ctx.Err() == nil {
		d.log.Warn("cannot stop unit agent", "unit", name, "err", err)
	}
	delete(started, name)
	delete(d.logs, name)
	if d.cfg.Reports != nil {
		d.cfg.Reports.removeUnit(name)
	}
	d.log.Info("unit agent stopped", "unit", name)
}

func (d *deployer) start(ctx context.Context, runner *worker.Runner, started map[string]bool, name string) error {
	dir := filepath.Join(d.cfg.DataDir, "agents", unitDirName(name))
	if err := d.ensureCredential(ctx, name, dir); err != nil {
		return err
	}
	if d.logs[name] == nil {
		capacity := 0 // the default; agent.conf's log-buffer may set it
		if c, err := api.ReadAgentConfig(dir); err == nil {
			capacity = c.LogBuffer
		}
		d.logs[name] = logsender.NewBuffer(capacity)
	}
	ucfg := d.unitConfig(name, dir)
	if err := runner.StartWorker(ctx, name, func(ctx context.Context) (worker.Worker, error) {
		eng, err := engine.New(ucfg.Logger)
		if err != nil {
			return nil, err
		}
		if err := engine.Install(eng, unitagent.Manifolds(ucfg)); err != nil {
			eng.Kill()
			return nil, err
		}
		if d.cfg.Reports != nil {
			d.cfg.Reports.setUnit(name, eng)
		}
		return eng, nil
	}); err != nil {
		return err
	}
	started[name] = true
	d.log.Info("unit agent started", "unit", name)
	return nil
}

// unitConfig configures the unit agent of unit name in dir: it shares
// the machine agent's machine lock, metrics and API transport (Pool).
func (d *deployer) unitConfig(name, dir string) unitagent.Config {
	return unitagent.Config{Dir: dir, MachineID: d.agent.Machine, HookTool: d.cfg.HookTool, Lock: d.lock,
		ToolsDir: filepath.Join(d.cfg.DataDir, "hook-tools"),
		Pebble:   d.cfg.Pebble, MountHelper: d.cfg.MountHelper,
		Logger: d.cfg.Logger.With("unit", name), Logs: d.logs[name], Metrics: d.cfg.Metrics, Pool: d.cfg.Pool}
}

func (d *deployer) ensureCredential(ctx context.Context, unit, dir string) error {
	if _, err := api.ReadAgentConfig(dir); err == nil {
		return nil
	}
	res, err := d.conn.IssueUnitCredential(ctx, &apipb.IssueUnitCredentialRequest{Unit: unit})
	if err != nil {
		return fmt.Errorf("cannot get credential for %s: %w", unit, err)
	}
	info := d.agent.Info
	info.Tag, info.Password = res.Tag, res.Password
	return api.WriteAgentConfig(dir, api.AgentConfig{Info: info, ModelUUID: d.agent.ModelUUID, Unit: unit})
}
