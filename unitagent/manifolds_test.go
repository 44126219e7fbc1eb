package unitagent_test

import (
	"reflect"
	"sort"
	"testing"

	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/unitagent"
)

// TestManifoldsPinned pins the unit agent's dependency graph; change it
// together with ARCHITECTURE.md.
func TestManifoldsPinned(t *testing.T) {
	want := map[string][]string{
		unitagent.AgentName:          {},
		unitagent.APICallerName:      {unitagent.AgentName},
		unitagent.CharmDirName:       {},
		unitagent.LeadershipName:     {unitagent.AgentName, unitagent.APICallerName},
		unitagent.RetryName:          {},
		unitagent.MetricsName:        {unitagent.AgentName},
		unitagent.UniterName:         {unitagent.AgentName, unitagent.APICallerName, unitagent.CharmDirName, unitagent.LeadershipName, unitagent.RetryName, unitagent.MetricsName, unitagent.WorkloadEventsName},
		unitagent.WorkloadEventsName: {},
		unitagent.PebbleName:         {unitagent.CharmDirName, unitagent.WorkloadEventsName},
		unitagent.LogSenderName:      {unitagent.AgentName, unitagent.APICallerName},
	}
	for _, in := range want {
		sort.Strings(in)
	}
	if got := engine.Graph(unitagent.Manifolds(unitagent.Config{Dir: t.TempDir()})); !reflect.DeepEqual(got, want) {
		t.Fatalf("unit agent dependency graph changed:\n got  %v\n want %v", got, want)
	}
}
