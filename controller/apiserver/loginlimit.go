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

// connTag marks a transport connection and holds, per agent tag that
// called on it, that agent's login there. A machine agent's process
// shares one transport among all its agents (internal/api Pool), so a
// login is a (connection, tag) pair's first authenticated call: each
// agent on a shared connection pays its own token, once. An agent starts
// several calls at once (its watch, its log sender, its first status):
// they are one login, so they share one token. The first to arrive holds
// the tag's mu while it is admitted (the connection's mu only while the
// entry is looked up, so agents sharing a connection queue for their
// tokens side by side); the others wait for it and pass on its token
// (admitted), or, if it was refused, ask for their own.
type connTag struct {
	mu     sync.Mutex
	logins map[string]*tagLogin // guarded by mu: claimed agent tag -> its login here
}

type tagLogin struct {
	loggedIn atomic.Bool
	mu       sync.Mutex // serialises the admission of the first calls
	admitted bool       // guarded by mu: a token was granted to this (connection, tag)
}

// login is tag's entry on the connection, made when create is set (nil
// otherwise, when there is none).
func (ct *connTag) login(tag string, create bool) *tagLogin {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	l := ct.logins[tag]
	if l == nil && create {
		if ct.logins == nil {
			ct.logins = map[string]*tagLogin{}
		}
		l = &tagLogin{}
		ct.logins[tag] = l
	}
	return l
}

// drop forgets tag's entry unless it logged in, so a connection trying
// tags that never authenticate holds nothing for them.
func (ct *connTag) drop(tag string, l *tagLogin) {
	ct.mu.Lock()
	if ct.logins[tag] == l && !l.loggedIn.Load() {
		delete(ct.logins, tag)
	}
	ct.mu.Unlock()
}

// claimedTag is the single tag the call's metadata presents, "" if none.
func claimedTag(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if tags := md.Get(api.MDTag); len(tags) == 1 {
		return tags[0]
	}
	return ""
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
	tag := claimedTag(ctx)
	if tag == "" || strings.HasPrefix(tag, "user-") {
		return nil
	}
	var l *tagLogin
	if ct, _ := ctx.Value(connTagKey{}).(*connTag); ct != nil {
		if l = ct.login(tag, true); l.loggedIn.Load() {
			return nil
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.admitted || l.loggedIn.Load() {
			return nil
		}
		defer func() {
			if !l.admitted {
				ct.drop(tag, l)
			}
		}()
	}
	ok, wait := s.logins.Reserve(maxLoginQueue)
	if ok {
		if l != nil {
			l.admitted = true
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
	kind, _, _ := strings.Cut(tag, "-")
	if s.cfg.LoginObserver != nil {
		s.cfg.LoginObserver.LoginThrottled(kind)
	}
	return status.Error(codes.ResourceExhausted, fmt.Sprintf("login throttled: the controller is limiting agent logins; retry after %s",
		wait.Round(time.Millisecond)))
}

// loginFailed withdraws the admission of the call's (connection, tag)
// after a failed authentication: its next call is a login again.
func loginFailed(ctx context.Context) {
	ct, _ := ctx.Value(connTagKey{}).(*connTag)
	if ct == nil {
		return
	}
	tag := claimedTag(ctx)
	if l := ct.login(tag, false); l != nil {
		l.mu.Lock()
		l.admitted = false
		l.mu.Unlock()
		ct.drop(tag, l)
	}
}

// loggedIn records that the agent whose authenticated call ctx is is
// logged in on its connection, so its later calls there skip the login
// limiter (other agents sharing the connection still log in themselves).
func loggedIn(ctx context.Context) {
	if ct, _ := ctx.Value(connTagKey{}).(*connTag); ct != nil {
		if tag := claimedTag(ctx); tag != "" {
			ct.login(tag, true).loggedIn.Store(true)
		}
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
