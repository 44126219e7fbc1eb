package unitagent_test

import (
	"reflect"
	"sort"
	"testing"

	"github.com/troupe-dev/troupe/unitagent"
)

func TestManifoldsPinned(t *testing.T) {
	want := map[string][]string{
		unitagent.AgentName:      {},
		unitagent.APICallerName:  {unitagent.AgentName},
		unitagent.CharmDirName:   {},
		unitagent.LeadershipName: {unitagent.AgentName, unitagent.APICallerName},
		unitagent.UniterName:     {unitagent.AgentName, unitagent.APICallerName, unitagent.CharmDirName, unitagent.LeadershipName},
	}
	have := map[string][]string{}
	for name, m := range unitagent.Manifolds(unitagent.Config{Dir: t.TempDir()}) {
		in := append([]string{}, m.Inputs...)
		sort.Strings(in)
		have[name] = in
	}
	for _, in := range want {
		sort.Strings(in)
	}
	if !reflect.DeepEqual(have, want) {
		t.Fatalf("unit agent graph changed:\n got  %v\n want %v", have, want)
	}
}
