package uniter

import (
	"os"
	"os/exec"
	"path/filepath"

	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/hooktool"
	"github.com/troupe-dev/troupe/internal/mountns"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// CharmContainersPath is where a sidecar charm finds its containers'
// Pebble sockets (<name>/pebble.socket), as ops expects.
const CharmContainersPath = "/charm/containers"

// WorkloadEvents is the durable queue of Pebble events the uniter runs
// hooks for (workers/pebble.Queue implements it).
type WorkloadEvents interface {
	// Events returns the queued events in Seq order.
	Events() []resolver.Event
	// Ack drops the events numbered seq or lower, once the uniter's
	// state durably records that it ran them.
	Ack(seq uint64) error
	// Changes signals (coalesced) that events were queued.
	Changes() <-chan struct{}
}

// workloadEvents returns the queued events after acknowledging those the
// persisted state says ran.
func (u *Uniter) workloadEvents(s resolver.State) ([]resolver.Event, error) {
	if u.cfg.WorkloadEvents == nil {
		return nil, nil
	}
	if err := u.cfg.WorkloadEvents.Ack(s.WorkloadEventSeq); err != nil {
		return nil, err
	}
	return u.cfg.WorkloadEvents.Events(), nil
}

func (u *Uniter) workloadChanges() <-chan struct{} {
	if u.cfg.WorkloadEvents == nil {
		return nil
	}
	return u.cfg.WorkloadEvents.Changes()
}

// installPebbleCLI puts the pebble client on the hooks' PATH, next to the
// hook tools, when the agent has a pebble binary.
func (u *Uniter) installPebbleCLI() error {
	if u.cfg.Pebble == "" {
		return nil
	}
	return hooktool.EnsureSymlinks(u.toolsDir(), u.cfg.Pebble, []string{"pebble"})
}

// privateContainers reports whether charm processes must run in a mount
// namespace of their own with the unit's containers directory on
// /charm/containers: when the deployed charm declares containers and the
// agent is configured for it. The answer is cached per charm URL.
func (u *Uniter) privateContainers() bool {
	if u.cfg.ContainersDir == "" || u.cfg.MountHelper == "" {
		return false
	}
	url := u.local.CharmURL
	if u.containersFor != nil && u.containersFor.url == url {
		return u.containersFor.has
	}
	has := false
	if data, err := os.ReadFile(filepath.Join(u.charmDir(), "metadata.yaml")); err == nil {
		if meta, err := charm.ParseMeta(data); err == nil {
			has = len(meta.Containers) > 0
		}
	}
	u.containersFor = &charmContainers{url: url, has: has}
	return has
}

type charmContainers struct {
	url string
	has bool
}

// wrapForContainers makes cmd run in a private mount namespace with the
// unit's containers on /charm/containers, when the charm has containers.
func (u *Uniter) wrapForContainers(cmd *exec.Cmd) error {
	if !u.privateContainers() {
		return nil
	}
	if err := os.MkdirAll(u.cfg.ContainersDir, 0o755); err != nil {
		return err
	}
	mountns.Wrap(cmd, u.cfg.MountHelper, u.cfg.ContainersDir, CharmContainersPath)
	return nil
}
