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

// ErrInvalid is wrapped by StartInstance's error when the request itself
// is wrong (an invalid instance name, file name or constraint): retrying
// the same request cannot succeed.
var ErrInvalid = errors.New("provider: invalid instance request")

// ErrUnavailable is wrapped by a provider's error when its backend cannot
// be reached or cannot serve the request right now (the LXD daemon is
// down, the image is missing, a quota is exhausted). The message says
// what is wrong and what to do; the same request may succeed once the
// cause is fixed, so callers retry it.
var ErrUnavailable = errors.New("provider: unavailable")

// InstanceConfig describes one instance to start.
type InstanceConfig struct {
	// Name is unique per controller and stable per machine (e.g.
	// "<model-short-uuid>-machine-3"); StartInstance is idempotent on it.
	// Lowercase letters, digits and "-" are valid for every provider, up
	// to 40 characters, not starting or ending with "-"; a name that is
	// empty or contains "/" or "." is refused by every provider.
	Name string
	// Files are written into the instance's agent data dir before the
	// agent starts, with mode 0600 (e.g. "agent.conf"). Keys are plain
	// file names: a key that is empty, "." or "..", contains "/", or is a
	// name the provider reserves for itself is refused.
	Files map[string][]byte
	// Constraints bound the instance's resources.
	Constraints Constraints
}

// Constraints are the resources an instance is limited to. Zero means
// "no limit". A negative value is refused (ErrInvalid). A provider that
// can enforce a constraint does and reports it in Instance.Hardware; one
// that cannot (the local provider runs every agent on the host) ignores
// it and leaves it zero in Hardware, so a caller can tell the two apart.
type Constraints struct {
	// Cores is the number of CPU cores.
	Cores int
	// MemoryMiB is the memory limit in MiB.
	MemoryMiB int
}

// Instance is a started instance.
type Instance struct {
	// ID names the instance to StopInstance; it equals the Name it was
	// started with.
	ID string
	// Hostname is the instance's host name as its agent sees it.
	Hostname string
	// Addresses are the IP addresses (textual, no port) at which the
	// controller and other instances reach this one; never empty for an
	// instance StartInstance returned.
	Addresses []string
	// Hardware is what the provider enforces (see Constraints).
	Hardware Constraints
}

// Provider is the contract every provider implements. Methods are safe for
// concurrent use, including on distinct and on equal names at once, and
// honour ctx cancellation: a call whose ctx is already done changes nothing
// and returns an error wrapping ctx.Err(). providers/providertest checks
// this contract; every provider runs it.
type Provider interface {
	// StartInstance starts (or, if already started, returns) the instance
	// named cfg.Name with its machine agent running, and returns once the
	// instance has its addresses. A second call for a name whose agent
	// runs returns the same Instance and starts nothing new, whatever
	// cfg.Files and cfg.Constraints say (so a caller may pass only the
	// name to make sure an instance is up); an instance that exists but
	// whose agent stopped is started again with the files it has. The
	// agent sees every file of cfg.Files when it first starts.
	//
	// Errors: one wrapping ErrInvalid for an invalid name, file name or
	// constraint; one wrapping ErrUnavailable when the backend cannot be
	// reached or cannot create the instance now (its message names the
	// cause and the fix); one wrapping ctx.Err() when ctx ends first.
	// Whatever the error, nothing is left half-created: an instance the
	// call created is deleted again.
	StartInstance(ctx context.Context, cfg InstanceConfig) (Instance, error)
	// StopInstance stops the agent (asking it to exit, then killing it
	// after a provider-defined grace period) and deletes the instance and
	// its data; when it returns nil the agent process no longer runs. It
	// returns ErrNotFound when no such instance exists, so stopping an
	// instance twice gives ErrNotFound the second time; one wrapping
	// ErrUnavailable when the backend cannot be reached. If ctx is
	// cancelled while it waits for the agent to exit, the agent is killed
	// at once rather than left half-stopped.
	StopInstance(ctx context.Context, id string) error
	// Instances lists the instances this provider manages: every started
	// instance not yet stopped, in no particular order, with their
	// current addresses. It returns an error wrapping ErrUnavailable when
	// the backend cannot be reached.
	Instances(ctx context.Context) ([]Instance, error)
}

// MaxNameLength is the longest instance name every provider accepts.
const MaxNameLength = 40
