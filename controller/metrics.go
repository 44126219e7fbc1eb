package controller

import (
	"context"

	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"

	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/internal/metrics"
	"github.com/troupe-dev/troupe/internal/store"
)

// metricsManifold serves the controller's families on
// Bootstrap.MetricsAddress (the bound address goes to DataDir/metrics.addr)
// and counts entities from the store while it runs. Nothing depends on
// it: an endpoint that cannot listen never stops the controller.
func metricsManifold(cfg ManifoldsConfig) dependency.Manifold {
	return dependency.Manifold{
		Inputs: []string{StoreName},
		Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
			var s *store.Store
			if err := g.Get(StoreName, &s); err != nil {
				return nil, err
			}
			sc := metrics.ServeConfig{Addr: cfg.Bootstrap.MetricsAddress, Dir: cfg.DataDir,
				Registry: cfg.Metrics.Registry(), Logger: cfg.Logger.With("worker", MetricsName),
				Profiles: metrics.ProfilesFromEnv()}
			return engine.Func(func(ctx context.Context) error {
				stop := cfg.Metrics.CountEntitiesFrom(s)
				defer stop()
				return metrics.Serve(ctx, sc)
			}), nil
		},
	}
}
