package uniter

import (
	"errors"
	"time"

	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// Metrics receives what the uniter measures; agentmetrics.Unit implements
// it. Its methods are called on the uniter's goroutine and must not
// block.
type Metrics interface {
	// HookRan reports one run of a hook that has a handler: its wall time
	// (hook-tool calls and the commit to the outbox included) and whether
	// it failed. A hook interrupted by the agent stopping is not reported.
	HookRan(hook string, took time.Duration, failed bool)
	// OutboxState reports the outbox: entries not yet acknowledged, and
	// when the oldest was appended (zero when none or unknown).
	OutboxState(pending int, oldest time.Time)
}

// observeHook reports the hook that started at start and ended with *err.
func (u *Uniter) observeHook(name string, start time.Time, err *error) {
	if u.cfg.Metrics == nil || errors.Is(*err, resolver.ErrTerminated) {
		return
	}
	u.cfg.Metrics.HookRan(name, time.Since(start), *err != nil)
	u.observeOutbox()
}

// observeOutbox reports the outbox's depth and oldest entry.
func (u *Uniter) observeOutbox() {
	if u.cfg.Metrics == nil || u.outbox == nil {
		return
	}
	u.cfg.Metrics.OutboxState(u.outbox.Oldest())
}
