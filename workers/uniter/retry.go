package uniter

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/juju/clock"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

// Hook retry policy (contract §2.4, §8.4): the failed hook is re-run after
// 5s, then 10s, 20s, ... capped at 5 minutes, each delay jittered.
const (
	RetryMin    = 5 * time.Second
	RetryMax    = 5 * time.Minute
	RetryFactor = 2
)

// RetryStrategy is the backoff of automatic hook retries. The unit agent's
// hook-retry-strategy manifold provides it to the uniter; whether retries
// happen at all is the model's automatically-retry-hooks setting.
type RetryStrategy struct {
	Min, Max time.Duration
	Factor   int
	// Jitter spreads each delay d over [d/2, d).
	Jitter bool
}

// DefaultRetryStrategy is Juju's: 5s, ×2, capped at 5m, jittered.
var DefaultRetryStrategy = RetryStrategy{Min: RetryMin, Max: RetryMax, Factor: RetryFactor, Jitter: true}

// Validate checks the strategy.
func (rs RetryStrategy) Validate() error {
	if rs.Min <= 0 || rs.Max < rs.Min || rs.Factor < 1 {
		return fmt.Errorf("invalid hook retry strategy %+v: want 0 < min <= max and factor >= 1", rs)
	}
	return nil
}

// Delay is the delay before retry number attempt (0-based); jitter in
// [0,1) picks the point in [d/2, d) when the strategy jitters.
func (rs RetryStrategy) Delay(attempt int, jitter float64) time.Duration {
	d := rs.Min
	for i := 0; i < attempt && d < rs.Max; i++ {
		d *= time.Duration(rs.Factor)
	}
	if d > rs.Max {
		d = rs.Max
	}
	if !rs.Jitter {
		return d
	}
	return d/2 + time.Duration(jitter*float64(d/2))
}

// RetryDelay is DefaultRetryStrategy.Delay.
func RetryDelay(attempt int, jitter float64) time.Duration {
	return DefaultRetryStrategy.Delay(attempt, jitter)
}

// UpdateStatusJitter spreads each update-status period over ±20% of the
// interval; jitter in [0,1) picks the point.
func UpdateStatusJitter(d time.Duration, jitter float64) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*jitter))
}

// updateInterval is the update-status period: the model's setting from
// the snapshot, else fallback.
func updateInterval(snap *apipb.UnitSnapshotResult, fallback time.Duration) time.Duration {
	if ms := snap.GetUpdateStatusIntervalMs(); ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return fallback
}

// retrier runs the retry timer while the unit is idle in a hook error and
// automatic retries are on, and bumps version each time it fires. Owned by
// the uniter's Run goroutine.
//
//	not in error ──track(in error, on)──▶ armed ──fires──▶ fired (version++, attempt++)
//	     ▲                                  │ track(_, off): stop    │ track(in error, on): armed, longer delay
//	     └───────────── reset (hook resolved or succeeded): attempt = 0 ◀┘
type retrier struct {
	clock    clock.Clock
	strategy RetryStrategy
	version  int
	attempt  int
	timer    clock.Timer // nil when no retry is scheduled
}

// track arms the timer for the next attempt when the unit is in error and
// retries are enabled, and stops it when they are disabled.
func (r *retrier) track(inError, enabled bool) {
	switch {
	case !inError:
		r.reset()
	case !enabled:
		r.stop()
	case r.timer == nil:
		r.timer = r.clock.NewTimer(r.strategy.Delay(r.attempt, rand.Float64()))
	}
}

func (r *retrier) fired() {
	r.version++
	r.attempt++
	r.timer = nil
}

// reset forgets the attempts: the next error starts again at 5s.
func (r *retrier) reset() {
	r.stop()
	r.attempt = 0
}

// C is the timer channel, nil (never ready) when no retry is scheduled.
func (r *retrier) C() <-chan time.Time {
	if r.timer == nil {
		return nil
	}
	return r.timer.Chan()
}

func (r *retrier) stop() {
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer = nil
}

// updateTimer is the update-status timer: re-armed with a fresh jitter
// after each tick, and at once when the interval changes. Owned by the
// uniter's Run goroutine.
type updateTimer struct {
	clock    clock.Clock
	interval time.Duration // the interval the timer was armed for
	timer    clock.Timer
}

// arm (re)starts the timer if it is not running for interval d.
func (t *updateTimer) arm(d time.Duration) {
	if t.timer != nil && t.interval == d {
		return
	}
	t.stop()
	t.interval = d
	t.timer = t.clock.NewTimer(UpdateStatusJitter(d, rand.Float64()))
}

// fired re-arms the timer for the next period.
func (t *updateTimer) fired() {
	t.timer = t.clock.NewTimer(UpdateStatusJitter(t.interval, rand.Float64()))
}

// C is the timer channel.
func (t *updateTimer) C() <-chan time.Time {
	if t.timer == nil {
		return nil
	}
	return t.timer.Chan()
}

func (t *updateTimer) stop() {
	if t.timer != nil {
		t.timer.Stop()
	}
	t.timer = nil
}
