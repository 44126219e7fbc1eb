package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Reconnection. gRPC reconnects a dropped connection by itself; Troupe
// takes over the dialling so that (1) every known controller address is
// tried in turn, and (2) the wait between failed rounds is full-jitter
// exponential backoff — uniform in [0, min(cap, base·2ⁿ)] — so agents cut
// off together do not come back in lockstep. gRPC's own connect timeout
// is set out of the way; the dialler honours the context it is given.

// Backoff defaults.
const (
	DefaultBackoffBase = 250 * time.Millisecond
	// DefaultBackoffCap is low because a refused dial costs the
	// controller nothing and its login limiter (with its retry hints)
	// is what spreads a storm: an agent that waited out a long outage
	// is back within 5 s of the controller (it was 30 s, and the last
	// agents of a 500-agent storm came back 30 s after the controller).
	DefaultBackoffCap = 5 * time.Second
)

// FullJitter is the wait before retry attempt n (0-based): r·min(cap,
// base·2ⁿ) for r in [0, 1). Pure.
func FullJitter(n int, base, cap time.Duration, r float64) time.Duration {
	ceil := cap
	if n < 62 {
		if d := base << uint(n); d > 0 && d < cap {
			ceil = d
		}
	}
	return time.Duration(r * float64(ceil))
}

// redialer dials the controller addresses in turn.
type redialer struct {
	addrs      []string
	base, cap  time.Duration
	dialed     atomic.Int64 // successful dials
	mu         sync.Mutex
	next       int // guarded by mu: index of the address to try first
	failed     int // guarded by mu: failed rounds since the last success
	dialer     net.Dialer
	randFloat  func() float64
	dialTimout time.Duration
	onRedial   func() // nil: not observed
}

// dial is gRPC's dialler. One call is one round over every address;
// after a failed round the next call first waits FullJitter(failed
// rounds), so the very first attempt fails fast (a CLI facing a stopped
// controller gets Unavailable at once) while an agent's retries spread
// out. gRPC's own backoff between calls is kept tiny (see Dial).
func (d *redialer) dial(ctx context.Context, _ string) (net.Conn, error) {
	d.mu.Lock()
	start, failed := d.next, d.failed
	d.mu.Unlock()
	if failed > 0 {
		t := time.NewTimer(FullJitter(failed-1, d.base, d.cap, d.randFloat()))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	var errs []string
	for i := range d.addrs {
		idx := (start + i) % len(d.addrs)
		actx, cancel := context.WithTimeout(ctx, d.dialTimout)
		c, err := d.dialer.DialContext(actx, "tcp", d.addrs[idx])
		cancel()
		if err == nil {
			d.mu.Lock()
			d.next, d.failed = idx, 0 // stick to the address that answered
			d.mu.Unlock()
			if d.dialed.Add(1) > 1 && d.onRedial != nil {
				d.onRedial()
			}
			return c, nil
		}
		errs = append(errs, err.Error())
	}
	d.mu.Lock()
	d.failed++
	d.mu.Unlock()
	return nil, fmt.Errorf("cannot reach the controller at %s: %s", strings.Join(d.addrs, ", "), strings.Join(errs, "; "))
}

// Reconnects is how many times this connection's transport was
// re-established while the Conn was open (after its first connect).
func (c *Conn) Reconnects() int64 { return c.redials.Load() }

// IsLoginThrottled says whether err is the controller refusing a login
// for its rate limit; such a call may be retried after a backoff.
func IsLoginThrottled(err error) bool {
	return status.Code(err) == codes.ResourceExhausted && strings.Contains(status.Convert(err).Message(), "login throttled")
}

// throttleRetries bounds how often a unary call refused by the login
// limiter is retried (with full-jitter backoff) before the error is
// returned to the caller.
const throttleRetries = 8

// ThrottleWait is how long to wait before retry n (from 0) of a call the
// login limiter refused with err. The controller says when its next token
// is due ("retry after D"): the wait is uniform in [D, 2D], so refused
// agents come back as tokens free up instead of backing off ever longer
// while the storm drains; without a hint it is FullJitter from 1 s. r is
// uniform in [0, 1).
func ThrottleWait(err error, n int, cap time.Duration, r float64) time.Duration {
	if d := retryAfter(err); d > 0 {
		return min(cap, d+time.Duration(r*float64(d)))
	}
	return FullJitter(n, time.Second, cap, r)
}

// retryAfter reads the controller's hint from a throttled login's
// message; 0 when there is none.
func retryAfter(err error) time.Duration {
	_, after, ok := strings.Cut(status.Convert(err).Message(), "retry after ")
	if !ok {
		return 0
	}
	d, perr := time.ParseDuration(strings.Fields(after + " ")[0])
	if perr != nil || d < 0 {
		return 0
	}
	return max(d, 10*time.Millisecond)
}

// retryThrottled is a unary client interceptor: a call refused by the
// login limiter waits and retries, so a reconnect storm spreads out.
func (d *redialer) retryThrottled(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, inv grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	for n := 0; ; n++ {
		err := inv(ctx, method, req, reply, cc, opts...)
		if err == nil || n >= throttleRetries || !IsLoginThrottled(err) {
			return err
		}
		t := time.NewTimer(ThrottleWait(err, n, d.cap, d.randFloat()))
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}
