package machineagent

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"

	"github.com/troupe-dev/troupe/internal/agentmetrics"
	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/internal/machinelock"
	"github.com/troupe-dev/troupe/internal/metrics"
)

// withMetrics returns the agent's families (made here when cfg has none),
// observing lock and, when cfg has reports, the engines.
func withMetrics(cfg Config, lock *machinelock.Lock) *agentmetrics.Machine {
	m := cfg.Metrics
	if m == nil {
		m = agentmetrics.New(nil)
	}
	lock.Observer = m
	if cfg.Reports != nil {
		m.SetEngineReports(cfg.Reports.Engines)
	}
	return m
}

// metricsManifold serves the agent's registry over HTTP and outputs the
// *agentmetrics.Machine. Nothing depends on it: a metrics endpoint that
// cannot listen never stops units from running.
func metricsManifold(cfg Config) dependency.Manifold {
	return dependency.Manifold{
		Start: func(ctx context.Context, _ dependency.Getter) (worker.Worker, error) {
			log := cfg.Logger
			if log == nil {
				log = slog.Default()
			}
			sc := metrics.ServeConfig{Addr: cfg.MetricsAddress, Dir: cfg.DataDir, Registry: cfg.Metrics.Registry(), Logger: log,
				Profiles: metrics.ProfilesFromEnv()}
			return &metricsWorker{Worker: engine.Func(func(ctx context.Context) error { return metrics.Serve(ctx, sc) }), m: cfg.Metrics}, nil
		},
		Output: func(in worker.Worker, out any) error {
			w, ok := in.(*metricsWorker)
			p, ok2 := out.(**agentmetrics.Machine)
			if !ok || !ok2 {
				return fmt.Errorf("metrics output: unexpected %T / %T", in, out)
			}
			*p = w.m
			return nil
		},
	}
}

type metricsWorker struct {
	worker.Worker
	m *agentmetrics.Machine
}

// Engines returns the engine report of the machine ("machine") and of
// each unit agent (by unit name), for the engine metrics.
func (r *Reports) Engines() map[string]map[string]any {
	out := map[string]map[string]any{}
	if r.Machine != nil {
		out["machine"] = r.Machine()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, e := range r.units {
		out[name] = e.Report()
	}
	return out
}
