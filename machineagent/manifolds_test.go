package machineagent_test

import (
	"reflect"
	"sort"
	"testing"

	"github.com/troupe-dev/troupe/machineagent"
)

func TestManifoldsPinned(t *testing.T) {
	want := map[string][]string{
		machineagent.AgentName:     {},
		machineagent.APICallerName: {machineagent.AgentName},
		machineagent.MachinerName:  {machineagent.AgentName, machineagent.APICallerName},
		machineagent.DeployerName:  {machineagent.AgentName, machineagent.APICallerName},
	}
	have := map[string][]string{}
	for name, m := range machineagent.Manifolds(machineagent.Config{DataDir: t.TempDir()}) {
		in := append([]string{}, m.Inputs...)
		sort.Strings(in)
		have[name] = in
	}
	for _, in := range want {
		sort.Strings(in)
	}
	if !reflect.DeepEqual(have, want) {
		t.Fatalf("machine agent graph changed:\n got  %v\n want %v", have, want)
	}
}
