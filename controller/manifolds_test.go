package controller_test

import (
	"log/slog"
	"reflect"
	"sort"
	"testing"

	"github.com/troupe-dev/troupe/controller"
	"github.com/troupe-dev/troupe/internal/engine"
)

// TestManifoldsPinned pins the controller's dependency graph; change it
// together with ARCHITECTURE.md.
func TestManifoldsPinned(t *testing.T) {
	want := map[string][]string{
		controller.StoreName:        {},
		controller.ActorSystemName:  {controller.StoreName},
		controller.WatchHubName:     {controller.StoreName},
		controller.LogSinkName:      {},
		controller.APIServerName:    {controller.StoreName, controller.ActorSystemName, controller.WatchHubName, controller.LogSinkName},
		controller.ProvisionerName:  {controller.StoreName, controller.ActorSystemName},
		controller.CleanerName:      {controller.StoreName, controller.ActorSystemName},
		controller.SubordinatesName: {controller.StoreName, controller.ActorSystemName},
		controller.MetricsName:      {controller.StoreName},
	}
	for _, in := range want {
		sort.Strings(in)
	}
	if got := engine.Graph(controller.Manifolds(controller.ManifoldsConfig{DataDir: t.TempDir(), Logger: slog.Default()})); !reflect.DeepEqual(got, want) {
		t.Fatalf("controller dependency graph changed:\n got  %v\n want %v", got, want)
	}
}
