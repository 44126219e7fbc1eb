package apiserver

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api"
)

// Login rate limiting. Every call carries credentials, but only the first
// authenticated call of an agent on a new transport connection is a
// login: a reconnect storm is many agents opening connections at once.
// A token bucket (LoginRate per second, LoginBurst deep) admits those
// logins; a refused one gets codes.ResourceExhausted with a retry hint,
// which agents treat as retryable and back off from. Users (the CLI) are
// never throttled, so an operator can always reach a stormed controller.

// TokenBucket is a token bucket: Take succeeds while tokens remain and
// refills at rate per second up to burst. Safe for concurrent use.
type TokenBucket struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewTokenBucket is a full bucket; now nil means time.Now.
func NewTokenBucket(rate float64, burst int, now func() time.Time) *TokenBucket {
	if now == nil {
		now = time.Now
	}
	if burst < 1 {
		burst = 1
	}
	return &TokenBucket{rate: rate, burst: float64(burst), now: now, tokens: float64(burst), last: now()}
}

// Take takes one token. When none is left it returns false and how long
// until one will be.
func (b *TokenBucket) Take() (ok bool, wait time.Duration) { return b.Reserve(0) }

// Reserve takes one token now or, when the next one is due within
// maxWait, reserves it: ok is true and the caller must wait before going
// on, so admissions never run ahead of the rate. Otherwise it returns
// false and how long until a token will be free.
func (b *TokenBucket) Reserve(maxWait time.Duration) (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(b.burst, b.tokens+el*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	if b.rate <= 0 {
		return false, time.Second
	}
	wait = time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	if wait <= maxWait {
		b.tokens-- // owed: the next callers wait longer
		return true, wait
	}
	return false, wait
}

// maxLoginQueue is how long a login may wait for its token before it is
// refused instead: short queues smooth a storm without errors.
const maxLoginQueue = time.Second

// DefaultLoginRate and DefaultLoginBurst apply when Config leaves them 0.
const (
	DefaultLoginRate  = 50
	DefaultLoginBurst = 100
)

// connTag marks a transport connection; loggedIn is set once an agent
// authenticated on it, so later calls on it are not logins. An agent
// starts several calls at once on a fresh connection (its watch, its log
// sender, its first status): they are one login, so they share one token.
// The first to arrive holds mu while it is admitted; the others wait for
// it and pass on its token (admitted), or, if it was refused, ask for
// their own.
type connTag struct {
	loggedIn atomic.Bool
	mu       sync.Mutex // serialises the admission of the first calls
	admitted bool       // guarded by mu: a token was granted to this connection
}

type connTagKey struct{}

// connTagger is the stats handler that gives each connection its tag.
type connTagger struct{}

func (connTagger) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (connTagger) HandleRPC(context.Context, stats.RPCStats)                       {}
func (connTagger) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return context.WithValue(ctx, connTagKey{}, &connTag{})
}
func (connTagger) HandleConn(context.Context, stats.ConnStats) {}

// LoginObserver counts throttled logins (ctlmetrics implements it).
type LoginObserver interface{ LoginThrottled(kind string) }

// throttleLogin admits or refuses the call as a login. It is the first
// thing authenticate does, before any store read.
func (s *Server) throttleLogin(ctx context.Context) error {
	if s.logins == nil {
		return nil
	}
	ct, _ := ctx.Value(connTagKey{}).(*connTag)
	if ct != nil && ct.loggedIn.Load() {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	tags := md.Get(api.MDTag)
	if len(tags) != 1 || strings.HasPrefix(tags[0], "user-") {
		return nil
	}
	if ct != nil {
		ct.mu.Lock()
		defer ct.mu.Unlock()
		if ct.admitted || ct.loggedIn.Load() {
			return nil
		}
	}
	ok, wait := s.logins.Reserve(maxLoginQueue)
	if ok {
		if ct != nil {
			ct.admitted = true
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return status.Error(codes.Canceled, "login abandoned while queued by the login rate limiter")
			}
		}
		return nil
	}
	kind, _, _ := strings.Cut(tags[0], "-")
	if s.cfg.LoginObserver != nil {
		s.cfg.LoginObserver.LoginThrottled(kind)
	}
	return status.Error(codes.ResourceExhausted, fmt.Sprintf("login throttled: the controller is limiting agent logins; retry after %s",
		wait.Round(time.Millisecond)))
}

// loginFailed withdraws the connection's admission after a failed
// authentication: its next call is a login again.
func loginFailed(ctx context.Context) {
	if ct, _ := ctx.Value(connTagKey{}).(*connTag); ct != nil {
		ct.mu.Lock()
		ct.admitted = false
		ct.mu.Unlock()
	}
}

// loggedIn records that the connection of ctx carries an authenticated
// agent, so its later calls skip the login limiter.
func loggedIn(ctx context.Context) {
	if ct, _ := ctx.Value(connTagKey{}).(*connTag); ct != nil {
		ct.loggedIn.Store(true)
	}
}

func newLoginBucket(cfg Config) *TokenBucket {
	rate, burst := cfg.LoginRate, cfg.LoginBurst
	if rate < 0 {
		return nil
	}
	if rate == 0 {
		rate = DefaultLoginRate
	}
	if burst == 0 {
		burst = DefaultLoginBurst
	}
	return NewTokenBucket(rate, burst, nil)
}
