package apiserver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/entity"
)

// loginGuard checks passwords for authenticate: it remembers which
// (identity, stored hash, password) triples verified, so a user's slow
// scrypt hash is computed once per password and not on every call, and
// it backs off a user after repeated failed logins (per identity: the
// first freeFailures are free, then each failure doubles the wait, up to
// maxBackoff). The zero value is ready to use.
type loginGuard struct {
	mu    sync.Mutex
	key   []byte               // HMAC key for the verified cache; random per process
	ok    map[string][32]byte  // identity -> HMAC(hash, password) that verified
	fails map[string]failState // user name -> failures
	now   func() time.Time
}

type failState struct {
	count int
	until time.Time
}

const (
	freeFailures = 5
	maxBackoff   = 30 * time.Second
)

func (g *loginGuard) clock() time.Time {
	if g.now != nil {
		return g.now()
	}
	return time.Now()
}

func (g *loginGuard) mac(hash, pw string) [32]byte {
	g.mu.Lock()
	if g.key == nil {
		g.key = make([]byte, 32)
		if _, err := rand.Read(g.key); err != nil {
			panic(err)
		}
	}
	key := g.key
	g.mu.Unlock()
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "%d:%s:%s", len(hash), hash, pw)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// check verifies pw against hash for identity id.
func (g *loginGuard) check(id, hash, pw string) bool {
	if hash == "" {
		return false
	}
	m := g.mac(hash, pw)
	g.mu.Lock()
	cached, ok := g.ok[id]
	g.mu.Unlock()
	if ok && hmac.Equal(cached[:], m[:]) {
		return true
	}
	if !entity.CheckPassword(hash, pw) {
		return false
	}
	g.mu.Lock()
	if g.ok == nil {
		g.ok = map[string][32]byte{}
	}
	g.ok[id] = m
	g.mu.Unlock()
	return true
}

// blocked is how long the user must still wait before trying again.
func (g *loginGuard) blocked(user string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.fails[user]
	if d := f.until.Sub(g.clock()); d > 0 {
		return d
	}
	return 0
}

func (g *loginGuard) failed(user string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fails == nil {
		g.fails = map[string]failState{}
	}
	f := g.fails[user]
	f.count++
	f.until = g.clock().Add(backoff(f.count))
	g.fails[user] = f
}

func (g *loginGuard) succeeded(user string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.fails, user)
}

// backoff is the wait after the n-th consecutive failure: none for the
// first freeFailures, then 1s, 2s, 4s, … up to maxBackoff.
func backoff(n int) time.Duration {
	if n <= freeFailures {
		return 0
	}
	d := time.Second
	for i := freeFailures + 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

func loginBlocked(user string, wait time.Duration) error {
	return status.Errorf(codes.Unauthenticated, "login for user %q blocked because of too many failed attempts; try again in %s", user, wait.Round(time.Second))
}
