package unitagent

import (
	"context"

	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"

	"github.com/troupe-dev/troupe/internal/agentmetrics"
	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/workers/uniter"
)

// metricsManifold registers the unit with the machine agent's metrics
// and outputs its *agentmetrics.Unit (nil when the machine has none); the
// unit's series are forgotten when the worker stops.
func metricsManifold(cfg Config) dependency.Manifold {
	return dependency.Manifold{
		Inputs: []string{AgentName},
		Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
			var c api.AgentConfig
			if err := g.Get(AgentName, &c); err != nil {
				return nil, err
			}
			var u *agentmetrics.Unit
			if cfg.Metrics != nil {
				u = cfg.Metrics.ForUnit(c.Unit)
			}
			return engine.NewValue(u, u.Close), nil
		},
		Output: engine.ValueOutput[*agentmetrics.Unit],
	}
}

// setMetrics gives the uniter the unit's metrics view, if there is one.
func setMetrics(g dependency.Getter, uc *uniter.Config) error {
	var u *agentmetrics.Unit
	if err := g.Get(MetricsName, &u); err != nil {
		return err
	}
	if u != nil {
		uc.Metrics = u
	}
	return nil
}
