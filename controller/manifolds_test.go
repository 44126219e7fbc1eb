package controller_test

import (
	"log/slog"
	"reflect"
	"sort"
	"testing"

	"github.com/juju/worker/v4/dependency"

	"github.com/troupe-dev/troupe/controller"
)

// pin compares a dependency graph with the expected manifold -> inputs map.
func pin(t *testing.T, got dependency.Manifolds, want map[string][]string) {
	t.Helper()
	have := map[string][]string{}
	for name, m := range got {
		in := append([]string{}, m.Inputs...)
		sort.Strings(in)
		have[name] = in
	}
	for _, in := range want {
		sort.Strings(in)
	}
	if !reflect.DeepEqual(have, want) {
		t.Fatalf("dependency graph changed:\n got  %v\n want %v\nupdate this test together with ARCHITECTURE.md", have, want)
	}
}

func TestManifoldsPinned(t *testing.T) {
	pin(t, controller.Manifolds(controller.ManifoldsConfig{DataDir: t.TempDir(), Logger: slog.Default()}), map[string][]string{
		controller.StoreName:       {},
		controller.ActorSystemName: {controller.StoreName},
		controller.WatchHubName:    {controller.StoreName},
		controller.APIServerName:   {controller.StoreName, controller.ActorSystemName, controller.WatchHubName},
		controller.ProvisionerName: {controller.StoreName, controller.ActorSystemName},
		controller.CleanerName:     {controller.StoreName, controller.ActorSystemName},
	})
}
