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

// ErrNotFound is returned by StopInstance for an unknown instance id,
// including an id that could never name an instance (empty, ".", "..", or
// containing a path separator).
var ErrNotFound = errors.New("provider: instance not found")

// InstanceConfig describes one instance to start.
type InstanceConfig struct {
	// Name is unique per controller and stable per machine (e.g.
	// "<model-short-uuid>-machine-3"); StartInstance is idempotent on it.
	// Lowercase letters, digits and "-" are valid for every provider; a
	// name that is empty or contains "/" or "." is refused by every
	// provider.
	Name string
	// Files are written into the instance's agent data dir before the
	// agent starts, with mode 0600 (e.g. "agent.conf"). Keys are plain
	// file names: a key that is empty, "." or "..", contains "/", or is a
	// name the provider reserves for itself is refused.
	Files map[string][]byte
}

// Instance is a started instance.
type Instance struct {
	ID        string
	Hostname  string
	Addresses []string
}

// Provider is the contract every provider implements. Methods are safe for
// concurrent use, including on distinct and on equal names at once, and
// honour ctx cancellation: a call whose ctx is already done changes nothing
// and returns an error wrapping ctx.Err(). providers/providertest checks
// this contract; every provider runs it.
type Provider interface {
	// StartInstance starts (or, if already started, returns) the instance
	// named cfg.Name with its machine agent running. A second call for a
	// name whose agent runs returns the same Instance and starts nothing
	// new; the agent sees every file of cfg.Files when it starts. It
	// returns an error describing the provider's reason when the instance
	// cannot be started (an invalid name or file name included); nothing
	// is left half-created in that case.
	StartInstance(ctx context.Context, cfg InstanceConfig) (Instance, error)
	// StopInstance stops the agent (asking it to exit, then killing it
	// after a provider-defined grace period) and deletes the instance and
	// its data; when it returns nil the agent process no longer runs. It
	// returns ErrNotFound when no such instance exists, so stopping an
	// instance twice gives ErrNotFound the second time. If ctx is
	// cancelled while it waits for the agent to exit, the agent is killed
	// at once rather than left half-stopped.
	StopInstance(ctx context.Context, id string) error
	// Instances lists the instances this provider manages: every started
	// instance not yet stopped, in no particular order.
	Instances(ctx context.Context) ([]Instance, error)
}
