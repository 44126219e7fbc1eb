package unitagent

import (
	"context"
	"os"
	"path/filepath"

	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"

	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/workers/logsender"
	"github.com/troupe-dev/troupe/workers/pebble"
	"github.com/troupe-dev/troupe/workers/uniter"
)

// workloadEventsManifold opens the unit's durable queue of Pebble events
// (state/workload-events.json) and outputs it; the pebble worker fills
// it and the uniter drains it. It is its own manifold so that a restart
// of the pebble worker does not bounce the uniter.
func workloadEventsManifold(cfg Config) dependency.Manifold {
	return dependency.Manifold{
		Start: func(ctx context.Context, _ dependency.Getter) (worker.Worker, error) {
			dir := filepath.Join(cfg.Dir, "state")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			q, err := pebble.OpenQueue(filepath.Join(dir, "workload-events.json"))
			if err != nil {
				return nil, err
			}
			return engine.NewValue(q, nil), nil
		},
		Output: engine.ValueOutput[*pebble.Queue],
	}
}

// pebbleManifold runs the unit's Pebble daemons (workers/pebble); it
// uninstalls itself when the agent has no pebble binary configured.
func pebbleManifold(cfg Config) dependency.Manifold {
	return dependency.Manifold{
		Inputs: []string{CharmDirName, WorkloadEventsName},
		Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
			if cfg.Pebble == "" {
				return nil, dependency.ErrUninstall
			}
			var charmDir string
			if err := g.Get(CharmDirName, &charmDir); err != nil {
				return nil, err
			}
			var q *pebble.Queue
			if err := g.Get(WorkloadEventsName, &q); err != nil {
				return nil, err
			}
			pc := pebble.Config{UnitDir: cfg.Dir, CharmDir: charmDir, Pebble: cfg.Pebble, Queue: q,
				Logger: cfg.Logger.With(logsender.ModuleKey, "juju.worker.pebble")}
			return engine.Func(func(ctx context.Context) error { return pebble.Run(ctx, pc) }), nil
		},
	}
}

// setWorkload gives the uniter the workload event queue and, when the
// agent can run Pebble, the private /charm/containers settings.
func setWorkload(g dependency.Getter, cfg Config, uc *uniter.Config) error {
	var q *pebble.Queue
	if err := g.Get(WorkloadEventsName, &q); err != nil {
		return err
	}
	uc.WorkloadEvents = q
	if cfg.Pebble != "" {
		uc.Pebble = cfg.Pebble
		uc.ContainersDir = pebble.ContainersDir(cfg.Dir)
		uc.MountHelper = cfg.MountHelper
	}
	return nil
}
