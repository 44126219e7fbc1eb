// Package providers defines where machines come from. A Provider starts
// and stops instances (a local process, an LXD container, ...) that run a
// machine agent. Providers know nothing of actors, workers or the
// controller: the provisioner hands them opaque files to place in the
// instance and an agent command line.
package providers

import (
	"context"
	"errors"
)

// ErrNotFound is returned by StopInstance for an unknown instance id.
var ErrNotFound = errors.New("provider: instance not found")

// InstanceConfig describes one instance to start.
type InstanceConfig struct {
	// Name is unique per controller and stable per machine (e.g.
	// "<model-short-uuid>-machine-3"); StartInstance is idempotent on it.
	Name string
	// Files are written into the instance's agent data dir before the
	// agent starts, with mode 0600 (e.g. "agent.conf").
	Files map[string][]byte
}

// Instance is a started instance.
type Instance struct {
	ID        string
	Hostname  string
	Addresses []string
}

// Provider is the contract every provider implements. Methods are safe for
// concurrent use and honour ctx cancellation.
type Provider interface {
	// StartInstance starts (or, if already started, returns) the instance
	// named cfg.Name with its machine agent running. It returns an error
	// describing the provider's reason when the instance cannot be started;
	// nothing is left half-created in that case.
	StartInstance(ctx context.Context, cfg InstanceConfig) (Instance, error)
	// StopInstance stops the agent and deletes the instance and its data.
	// It returns ErrNotFound when no such instance exists.
	StopInstance(ctx context.Context, id string) error
	// Instances lists the instances this provider manages.
	Instances(ctx context.Context) ([]Instance, error)
}
