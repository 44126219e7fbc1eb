// Package leadership is the unit agent's leadership tracker (contract §7):
// it claims the application's lease for twice the guarantee (60 s) and
// renews it when half has passed. While another unit leads it claims
// again when that unit's lease runs out (the controller says when, and
// nobody can lead before), so failover happens within about a minute and
// N units of an application cost one claim per unit per renewal, not one
// every few seconds (NextClaim).
package leadership

import (
	"context"
	"log/slog"
	"math/rand/v2"
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
	res, err := t.claim(ctx)
	if err != nil {
		return false, err
	}
	return res.Held, nil
}

func (t *Tracker) claim(ctx context.Context) (*apipb.ClaimLeadershipResult, error) {
	res, err := t.API.ClaimLeadership(ctx, &apipb.ClaimLeadershipRequest{Unit: t.Unit, DurationMs: (2 * Guarantee).Milliseconds()})
	if err != nil {
		return nil, err
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
	return res, nil
}

// Run keeps claiming until ctx is done.
func (t *Tracker) Run(ctx context.Context) error {
	retry := t.Retry
	if retry == 0 {
		retry = 5 * time.Second
	}
	for {
		res, err := t.claim(ctx)
		if err != nil && ctx.Err() == nil {
			t.Logger.Warn("cannot claim leadership", "unit", t.Unit, "err", err)
		}
		wait := NextClaim(res, retry, rand.Float64())
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// claimSpread is how far past the leader's lease expiry a refused unit's
// next claim is spread, so the units of an application do not all claim
// in the same millisecond.
const claimSpread = time.Second

// NextClaim is how long to wait before the next claim after res (nil: the
// claim failed): Guarantee for the leader, so it renews with half its
// lease left; for another unit, until the leader's lease ends, spread by
// u (uniform in [0, 1)) over claimSpread and capped at the lease length;
// retry when the claim failed or the controller did not say. Pure.
func NextClaim(res *apipb.ClaimLeadershipResult, retry time.Duration, u float64) time.Duration {
	switch {
	case res == nil || (!res.Held && res.ExpiresInMs <= 0):
		return retry
	case res.Held:
		return Guarantee
	}
	wait := time.Duration(res.ExpiresInMs)*time.Millisecond + time.Duration(u*float64(claimSpread))
	return min(wait, 2*Guarantee+claimSpread)
}
