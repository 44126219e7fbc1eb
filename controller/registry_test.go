package controller

import (
	"testing"

	"github.com/asynkron/protoactor-go/actor"
)

// TestProcessRegistryIsOneMapPerBucket: the controller's actor system's
// process registry holds one map per bucket (registry.go), not 32.
func TestProcessRegistryIsOneMapPerBucket(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	buckets := sys.ProcessRegistry.LocalPIDs.LocalPIDs
	if len(buckets) == 0 {
		t.Fatal("no registry buckets")
	}
	for i, b := range buckets {
		if len(b) != 1 {
			t.Fatalf("registry bucket %d has %d shards, want 1", i, len(b))
		}
	}
}
