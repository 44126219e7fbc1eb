package uniter

import (
	"math/rand/v2"
	"time"
)

// Hook retry policy (contract §2.4, §8.4): the failed hook is re-run after
// 5s, then 10s, 20s, ... capped at 5 minutes, each delay jittered.
const (
	RetryMin    = 5 * time.Second
	RetryMax    = 5 * time.Minute
	RetryFactor = 2
)

// RetryDelay is the delay before retry number attempt (0-based). jitter in
// [0,1) spreads it over [d/2, d), so many units that failed together do not
// retry in lockstep.
func RetryDelay(attempt int, jitter float64) time.Duration {
	d := RetryMin
	for i := 0; i < attempt && d < RetryMax; i++ {
		d *= RetryFactor
	}
	if d > RetryMax {
		d = RetryMax
	}
	return d/2 + time.Duration(jitter*float64(d/2))
}

// retrier runs the retry timer while the unit is in a hook error and
// bumps version each time it fires. Owned by the uniter's Run goroutine.
type retrier struct {
	version int
	attempt int
	timer   *time.Timer
	active  bool
}

func (r *retrier) track(inError bool) {
	switch {
	case inError && !r.active:
		r.active = true
		r.timer = time.NewTimer(RetryDelay(r.attempt, rand.Float64()))
	case !inError && r.active:
		r.stop()
		r.attempt = 0
	}
}

func (r *retrier) fired() {
	r.version++
	r.attempt++
	r.active = false
	r.timer = nil
}

// C is the timer channel, nil (never ready) when no retry is scheduled.
func (r *retrier) C() <-chan time.Time {
	if r.timer == nil {
		return nil
	}
	return r.timer.C
}

func (r *retrier) stop() {
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer, r.active = nil, false
}
