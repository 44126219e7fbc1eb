// Package unitagent assembles a unit agent: a juju/worker/v4 dependency
// engine per unit, run in-process by the machine agent's deployer.
//
//	agent ──▶ api-caller ──▶ leadership-tracker ──▶ uniter
//	              ├──────────────────────────────────▲
//	              └──▶ log-sender                    │
//	charm-dir (paths) ───────────────────────────────┤
//	hook-retry-strategy (backoff of automatic retries) ┘
//	agent ──▶ metrics (this unit's view of the machine's families) ──▲
//	workload-events (durable Pebble event queue) ─────────────────────┤
//	charm-dir, workload-events ──▶ pebble (one daemon per container)  │
//	                                  └── queues events ──────────────┘
//
// Every worker logs through a logsender.Handler: lines still go to the
// machine agent's agent.log and are also buffered in Config.Logs, which
// the log-sender sends to the controller (`troupe debug-log`).
//
// Who imports it: machineagent. It never imports controller code.
package unitagent

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"

	"github.com/troupe-dev/troupe/internal/agentmanifold"
	"github.com/troupe-dev/troupe/internal/agentmetrics"
	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/internal/machinelock"
	"github.com/troupe-dev/troupe/workers/leadership"
	"github.com/troupe-dev/troupe/workers/logsender"
	"github.com/troupe-dev/troupe/workers/uniter"
)

// Manifold names.
const (
	AgentName      = "agent"
	APICallerName  = "api-caller"
	CharmDirName   = "charm-dir"
	LeadershipName = "leadership-tracker"
	RetryName      = "hook-retry-strategy"
	UniterName     = "uniter"
	LogSenderName  = "log-sender"
	MetricsName    = "metrics"
	// WorkloadEventsName and PebbleName: see pebble.go.
	WorkloadEventsName = "workload-events"
	PebbleName         = "pebble"
)

// Config configures a unit agent.
type Config struct {
	Dir       string // the unit's agent dir holding agent.conf
	MachineID string
	HookTool  string
	// ToolsDir, if set, is a directory of hook-tool links shared by the
	// machine's units (uniter.Config.ToolsDir); empty: the unit's own.
	ToolsDir string
	Lock     *machinelock.Lock
	Logger   *slog.Logger // agent.log; nil discards
	// Logs buffers the unit's log records for the log-sender; it should
	// outlive the engine (the deployer keeps one per unit). Nil means a
	// new buffer per Manifolds call.
	Logs *logsender.Buffer
	// Metrics is the machine agent's families; the unit registers with
	// it. Nil means no metrics.
	Metrics *agentmetrics.Machine
	// Pebble is the pebble binary run for charms that declare containers
	// (empty: no Pebble); MountHelper is the binary that gives their
	// hooks a private /charm/containers (troupe-mountns, internal/mountns).
	Pebble      string
	MountHelper string
	// Pool is the API transport shared with the machine agent and the
	// other unit agents of the process; nil means a connection of the
	// unit's own.
	Pool *api.Pool
}

// Manifolds returns the unit agent's dependency graph.
func Manifolds(cfg Config) dependency.Manifolds {
	if cfg.Logs == nil {
		cfg.Logs = logsender.NewBuffer(0)
	}
	base := cfg.Logger
	if base == nil {
		base = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = logsender.Logger(base, cfg.Logs, "juju.worker.uniter", "unit")
	return dependency.Manifolds{
		AgentName:     agentmanifold.Agent(cfg.Dir),
		APICallerName: agentmanifold.APICaller(AgentName, cfg.Pool, func(c api.AgentConfig) { cfg.Metrics.Redialed(c.Unit) }),
		CharmDirName: {
			Start: func(ctx context.Context, _ dependency.Getter) (worker.Worker, error) {
				return engine.NewValue(filepath.Join(cfg.Dir, "charm"), nil), nil
			},
			Output: engine.ValueOutput[string],
		},
		RetryName: {
			Start: func(ctx context.Context, _ dependency.Getter) (worker.Worker, error) {
				rs := uniter.DefaultRetryStrategy
				if err := rs.Validate(); err != nil {
					return nil, err
				}
				return engine.NewValue(rs, nil), nil
			},
			Output: engine.ValueOutput[uniter.RetryStrategy],
		},
		LeadershipName: {
			Inputs: []string{AgentName, APICallerName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				c, conn, err := agentmanifold.Inputs(g, AgentName, APICallerName)
				if err != nil {
					return nil, err
				}
				t := leadership.New(conn, c.Unit, cfg.Logger.With(logsender.ModuleKey, "juju.worker.leadership"))
				return &trackerWorker{Worker: engine.Func(t.Run), t: t}, nil
			},
			Output: func(in worker.Worker, out any) error {
				*(out.(**leadership.Tracker)) = in.(*trackerWorker).t
				return nil
			},
		},
		MetricsName:        metricsManifold(cfg),
		WorkloadEventsName: workloadEventsManifold(cfg),
		PebbleName:         pebbleManifold(cfg),
		UniterName: {
			Inputs: []string{AgentName, APICallerName, CharmDirName, LeadershipName, RetryName, MetricsName, WorkloadEventsName},
			Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
				c, conn, err := agentmanifold.Inputs(g, AgentName, APICallerName)
				if err != nil {
					return nil, err
				}
				var t *leadership.Tracker
				var charmDir string
				if err := g.Get(LeadershipName, &t); err != nil {
					return nil, err
				}
				if err := g.Get(CharmDirName, &charmDir); err != nil {
					return nil, err
				}
				var retry uniter.RetryStrategy
				if err := g.Get(RetryName, &retry); err != nil {
					return nil, err
				}
				uc := uniter.Config{API: conn, Unit: c.Unit, MachineID: cfg.MachineID, UnitDir: filepath.Dir(charmDir),
					HookTool: cfg.HookTool, ToolsDir: cfg.ToolsDir, Lock: cfg.Lock, Leadership: t, Logger: cfg.Logger, RetryStrategy: retry,
					OutboxLimit: c.OutboxLimit}
				if err := setMetrics(g, &uc); err != nil {
					return nil, err
				}
				if err := setWorkload(g, cfg, &uc); err != nil {
					return nil, err
				}
				return engine.Func(func(ctx context.Context) error { return uniter.Run(ctx, uc) }), nil
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

type trackerWorker struct {
	worker.Worker
	t *leadership.Tracker
}
