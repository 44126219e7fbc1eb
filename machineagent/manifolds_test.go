package machineagent_test

import (
	"reflect"
	"sort"
	"testing"

	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/machineagent"
)

// TestManifoldsPinned pins the machine agent's dependency graph; change it
// together with ARCHITECTURE.md.
func TestManifoldsPinned(t *testing.T) {
	want := map[string][]string{
		machineagent.AgentName:      {},
		machineagent.APICallerName:  {machineagent.AgentName},
		machineagent.MachinerName:   {machineagent.AgentName, machineagent.APICallerName},
		machineagent.DeployerName:   {machineagent.AgentName, machineagent.APICallerName},
		machineagent.LogSenderName:  {machineagent.AgentName, machineagent.APICallerName},
		machineagent.MetricsName:    {},
		machineagent.ExecName:       {machineagent.AgentName, machineagent.APICallerName},
		machineagent.CredentialName: {machineagent.AgentName, machineagent.APICallerName},
	}
	for _, in := range want {
		sort.Strings(in)
	}
	if got := engine.Graph(machineagent.Manifolds(machineagent.Config{DataDir: t.TempDir()})); !reflect.DeepEqual(got, want) {
		t.Fatalf("machine agent dependency graph changed:\n got  %v\n want %v", got, want)
	}
}
