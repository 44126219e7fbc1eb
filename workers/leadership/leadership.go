// Package leadership is the unit agent's leadership tracker (contract §7):
// it claims the application's lease for twice the guarantee (60 s) and
// renews it when half has passed; while another unit leads it retries
// every Retry interval, so failover happens within about a minute.
package leadership

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

// Guarantee is how long a true is-leader answer stays valid.
const Guarantee = 30 * time.Second

// Tracker tracks and maintains leadership for one unit.
type Tracker struct {
	API    apipb.ControllerClient
	Unit   string
	Retry  time.Duration // zero means 5s
	Logger *slog.Logger

	mu      sync.Mutex
	leader  bool
	changes chan struct{}
}

// New returns a tracker; run it with Run.
func New(api apipb.ControllerClient, unit string, log *slog.Logger) *Tracker {
	return &Tracker{API: api, Unit: unit, Logger: log, changes: make(chan struct{}, 1)}
}

// IsLeader reports the last known leadership.
func (t *Tracker) IsLeader() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.leader
}

// Changes signals a change of IsLeader.
func (t *Tracker) Changes() <-chan struct{} { return t.changes }

// ClaimNow claims or renews the lease.
func (t *Tracker) ClaimNow(ctx context.Context) (bool, error) {
	res, err := t.API.ClaimLeadership(ctx, &apipb.ClaimLeadershipRequest{Unit: t.Unit, DurationMs: (2 * Guarantee).Milliseconds()})
	if err != nil {
		return false, err
	}
	t.mu.Lock()
	changed := t.leader != res.Held
	t.leader = res.Held
	t.mu.Unlock()
	if changed {
		t.Logger.Info("leadership changed", "unit", t.Unit, "leader", res.Held)
		select {
		case t.changes <- struct{}{}:
		default:
		}
	}
	return res.Held, nil
}

// Run keeps claiming until ctx is done.
func (t *Tracker) Run(ctx context.Context) error {
	retry := t.Retry
	if retry == 0 {
		retry = 5 * time.Second
	}
	for {
		held, err := t.ClaimNow(ctx)
		if err != nil && ctx.Err() == nil {
			t.Logger.Warn("cannot claim leadership", "unit", t.Unit, "err", err)
		}
		wait := retry
		if held {
			wait = Guarantee
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}
