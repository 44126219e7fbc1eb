// Package api is the client side of the controller API and the agent
// configuration file format. It is the only boundary between the
// controller and its clients and agents: agents and the CLI import this
// package and apipb, never the controller's own packages.
package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/pki"
)

// Metadata keys carrying per-call credentials.
const (
	MDTag      = "troupe-tag"
	MDPassword = "troupe-password"
)

// MaxMessageSize bounds API messages (charm archives travel inline).
const MaxMessageSize = 256 << 20

// Info is what a caller needs to reach and authenticate to the controller.
type Info struct {
	Addresses []string `json:"api-addresses"`
	CACert    string   `json:"ca-cert"`
	Tag       string   `json:"tag"`
	Password  string   `json:"password"`
	// BackoffCap caps the reconnect backoff (Go duration); empty means
	// DefaultBackoffCap.
	BackoffCap string `json:"reconnect-backoff-cap,omitempty"`
	// OnRedial, if not nil, is called each time the connection's
	// transport is dialled again after its first connect (metrics). It
	// must not block.
	OnRedial func() `json:"-"`
}

type creds struct{ tag, password string }

func (c creds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{MDTag: c.tag, MDPassword: c.password}, nil
}
func (creds) RequireTransportSecurity() bool { return true }

// Conn is an API connection: one caller's credentials over a gRPC
// transport that is its own (Dial) or shared with the other agents of
// the process (Pool.Dial).
type Conn struct {
	apipb.ControllerClient
	cc       *callerConn
	rd       *redialer
	redials  atomic.Int64 // transport re-dials seen while this Conn was open
	redialed func()       // counts one and tells Info.OnRedial
	close    func() error
	once     sync.Once
	err      error
}

// Close closes the connection: its calls still running end (Canceled),
// later ones fail; the transport is closed once no Conn uses it.
func (c *Conn) Close() error {
	c.once.Do(func() {
		c.cc.stop()
		c.err = c.close()
	})
	return c.err
}

// Dial opens a connection of its own to the controller at info's
// addresses (an agent process shares one through a Pool). gRPC
// connects lazily and reconnects on its own, through redial.go's
// dialler: every address in turn, full-jitter backoff between rounds
// (cap info.BackoffCap, default 5 s). Keepalive pings every 10 s drop a
// dead link within about 15 s. Callers see errors per call.
func Dial(info Info) (*Conn, error) {
	t, err := newTransport(info)
	if err != nil {
		return nil, err
	}
	c := newConn(info, t.cc, t.rd)
	t.observe(c)
	c.close = t.cc.Close
	return c, nil
}

// transport is one gRPC client connection to the controller with its
// dialler, and the Conns it tells of re-dials.
type transport struct {
	cc *grpc.ClientConn
	rd *redialer

	mu        sync.Mutex
	observers map[*Conn]func() // guarded by mu
}

func (t *transport) observe(c *Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.observers == nil {
		t.observers = map[*Conn]func(){}
	}
	t.observers[c] = c.redialed
}

func (t *transport) forget(c *Conn) {
	t.mu.Lock()
	delete(t.observers, c)
	t.mu.Unlock()
}

// redialed tells every Conn on the transport that it was dialled again.
func (t *transport) redialed() {
	t.mu.Lock()
	fs := make([]func(), 0, len(t.observers))
	for _, f := range t.observers {
		fs = append(fs, f)
	}
	t.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// newTransport makes the gRPC client connection for info's addresses,
// CA and backoff cap; it carries no caller credentials (each Conn adds
// its own to every call).
func newTransport(info Info) (*transport, error) {
	if len(info.Addresses) == 0 {
		return nil, fmt.Errorf("no controller address configured")
	}
	tc, err := pki.ClientTLS([]byte(info.CACert))
	if err != nil {
		return nil, err
	}
	capDelay := DefaultBackoffCap
	if info.BackoffCap != "" {
		d, err := time.ParseDuration(info.BackoffCap)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("reconnect-backoff-cap %q: expected a duration such as 30s", info.BackoffCap)
		}
		capDelay = d
	}
	t := &transport{}
	rd := &redialer{addrs: append([]string(nil), info.Addresses...), base: DefaultBackoffBase, cap: capDelay,
		randFloat: rand.Float64, dialTimout: 10 * time.Second, onRedial: t.redialed}
	cc, err := grpc.NewClient("passthrough:///"+info.Addresses[0],
		grpc.WithTransportCredentials(credentials.NewTLS(tc)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
		grpc.WithContextDialer(rd.dial),
		// The dialler does the backoff (full jitter) and honours the
		// context; gRPC's own backoff is kept out of the way.
		grpc.WithConnectParams(grpc.ConnectParams{MinConnectTimeout: 365 * 24 * time.Hour,
			Backoff: backoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1, MaxDelay: 20 * time.Millisecond}}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}),
		grpc.WithChainUnaryInterceptor(rd.retryThrottled),
		grpc.WithChainStreamInterceptor(rd.retryThrottledStream),
		// Mostly idle connections: read straight from TLS (which
		// buffers a record already) and borrow the write buffer only
		// while flushing, instead of 32 KB of each per connection.
		grpc.WithReadBufferSize(0),
		grpc.WithSharedWriteBuffer(true),
	)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to controller at %s: %w", info.Addresses[0], err)
	}
	t.cc, t.rd = cc, rd
	return t, nil
}

func newConn(info Info, cc *grpc.ClientConn, rd *redialer) *Conn {
	ccc := newCallerConn(cc, creds{info.Tag, info.Password})
	c := &Conn{ControllerClient: apipb.NewControllerClient(ccc), cc: ccc, rd: rd}
	onRedial := info.OnRedial
	c.redialed = func() {
		c.redials.Add(1)
		if onRedial != nil {
			onRedial()
		}
	}
	return c
}

// AgentConfig is an agent's configuration file (agent.conf, mode 0600).
type AgentConfig struct {
	Info
	ModelUUID string `json:"model-uuid"`
	// Machine is the machine id for machine agents, Unit the unit name for
	// unit agents.
	Machine string `json:"machine,omitempty"`
	Unit    string `json:"unit,omitempty"`
	// OutboxLimit bounds a unit agent's outbox (entries; zero means the
	// default, 4096); LogBuffer is the capacity of its in-memory log
	// buffer (records; zero means 1000). Tests set them small.
	OutboxLimit int `json:"outbox-limit,omitempty"`
	LogBuffer   int `json:"log-buffer,omitempty"`
}

// AgentConfigFile is the agent config's name inside an agent's data dir.
const AgentConfigFile = "agent.conf"

// ReadAgentConfig reads dir/agent.conf.
func ReadAgentConfig(dir string) (AgentConfig, error) {
	var c AgentConfig
	data, err := os.ReadFile(filepath.Join(dir, AgentConfigFile))
	if err != nil {
		return c, fmt.Errorf("cannot read agent config: %w", err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("agent config %s is corrupt: %w", filepath.Join(dir, AgentConfigFile), err)
	}
	return c, nil
}

// WriteAgentConfig writes dir/agent.conf atomically with mode 0600.
func WriteAgentConfig(dir string, c AgentConfig) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(dir, AgentConfigFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("cannot write agent config: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, AgentConfigFile))
}
