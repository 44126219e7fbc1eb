package provisioner

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/troupe-dev/troupe/providers"
)

func TestEffectiveConstraints(t *testing.T) {
	// Documents come back from etcd as JSON: numbers are float64.
	var model, machine map[string]any
	if err := json.Unmarshal([]byte(`{"cores": 4, "mem": 2048, "arch": "amd64"}`), &model); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"mem": 512}`), &machine); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		model, machine map[string]any
		want           providers.Constraints
	}{
		{"none", nil, nil, providers.Constraints{}},
		{"model only", model, nil, providers.Constraints{Cores: 4, MemoryMiB: 2048}},
		{"machine only", nil, machine, providers.Constraints{MemoryMiB: 512}},
		{"machine wins key by key", model, machine, providers.Constraints{Cores: 4, MemoryMiB: 512}},
	} {
		if got := Effective(tc.model, tc.machine); got != tc.want {
			t.Errorf("%s: Effective = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if model["mem"] != float64(2048) {
		t.Errorf("Effective changed the model's constraints: %v", model)
	}
}

func TestHardware(t *testing.T) {
	arch := "arch=" + runtime.GOARCH
	for _, tc := range []struct {
		in   providers.Constraints
		want string
	}{
		{providers.Constraints{}, arch},
		{providers.Constraints{Cores: 2}, arch + " cores=2"},
		{providers.Constraints{Cores: 1, MemoryMiB: 512}, arch + " cores=1 mem=512M"},
	} {
		if got := Hardware(tc.in); got != tc.want {
			t.Errorf("Hardware(%+v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
