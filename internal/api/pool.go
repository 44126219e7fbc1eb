package api

import (
	"context"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Shared transports. A machine agent runs its unit agents in-process;
// with a connection each, the controller held a TLS connection, an
// HTTP/2 transport and its goroutines per unit. A Pool gives every agent
// of the process that dials the same controller (same addresses in the
// same order, same CA, same backoff cap) one gRPC client connection,
// reference counted: each agent's Conn is a callerConn over it that puts
// the agent's own tag and password on every call (grpc.PerRPCCredentials
// call option), so the controller authenticates, authorizes, tracks
// presence and rate-limits logins per call and per agent as before. The
// transport's dialler, throttled-login retries, keepalive and buffer
// settings are Dial's; a re-dial of the shared transport is reported to
// every Conn on it (Info.OnRedial, Reconnects).

// Pool shares transports among the Conns of a process. The zero value
// is ready to use; a nil *Pool dials a connection of its own each time.
type Pool struct {
	mu     sync.Mutex
	shared map[poolKey]*pooled // guarded by mu
}

// NewPool is an empty pool.
func NewPool() *Pool { return &Pool{} }

type poolKey struct{ addrs, ca, backoffCap string }

type pooled struct {
	t    *transport
	refs int // guarded by Pool.mu
}

// Dial is a Conn for info's caller over the pool's transport to info's
// controller, dialled on first use. Closing it releases its share; the
// last Close closes the transport.
func (p *Pool) Dial(info Info) (*Conn, error) {
	if p == nil {
		return Dial(info)
	}
	key := poolKey{strings.Join(info.Addresses, "\x00"), info.CACert, info.BackoffCap}
	p.mu.Lock()
	defer p.mu.Unlock()
	sh := p.shared[key]
	if sh == nil {
		t, err := newTransport(info)
		if err != nil {
			return nil, err
		}
		sh = &pooled{t: t}
		if p.shared == nil {
			p.shared = map[poolKey]*pooled{}
		}
		p.shared[key] = sh
	}
	sh.refs++
	c := newConn(info, sh.t.cc, sh.t.rd)
	sh.t.observe(c)
	c.close = func() error {
		sh.t.forget(c)
		p.mu.Lock()
		defer p.mu.Unlock()
		if sh.refs--; sh.refs > 0 {
			return nil
		}
		delete(p.shared, key)
		return sh.t.cc.Close()
	}
	return c, nil
}

// Transports is how many transports the pool holds open (tests, reports).
func (p *Pool) Transports() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.shared)
}

// errConnClosing is what a call on a closed Conn gets, as from a closed
// grpc.ClientConn.
var errConnClosing = status.Error(codes.Canceled, "grpc: the client connection is closing")

// callerConn is one caller's view of a transport: every call carries the
// caller's credentials and ends when the Conn is closed.
type callerConn struct {
	cc    *grpc.ClientConn
	creds grpc.CallOption
	life  context.Context // done once the Conn is closed
	stop  context.CancelFunc
}

func newCallerConn(cc *grpc.ClientConn, c creds) *callerConn {
	life, stop := context.WithCancel(context.Background())
	return &callerConn{cc: cc, creds: grpc.PerRPCCredentials(c), life: life, stop: stop}
}

// callContext is ctx, also cancelled when the Conn is closed; release
// (once the call is over) cancels it and unhooks it from the Conn.
func (c *callerConn) callContext(ctx context.Context) (_ context.Context, release func(), _ error) {
	if c.life.Err() != nil {
		return nil, nil, errConnClosing
	}
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(c.life, cancel)
	return ctx, func() { unhook(); cancel() }, nil
}

func (c *callerConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	ctx, release, err := c.callContext(ctx)
	if err != nil {
		return err
	}
	defer release()
	return c.cc.Invoke(ctx, method, args, reply, append(opts, c.creds)...)
}

func (c *callerConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	ctx, release, err := c.callContext(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := c.cc.NewStream(ctx, desc, method, append(opts, c.creds)...)
	if err != nil {
		release()
		return nil, err
	}
	// A caller may drop a stream by cancelling its context instead of
	// reading it to the end: release then too.
	context.AfterFunc(ctx, release)
	return &callerStream{ClientStream: cs, release: release}, nil
}

// callerStream releases its context once the stream has ended (RecvMsg
// returned an error, io.EOF included).
type callerStream struct {
	grpc.ClientStream
	release func()
}

func (s *callerStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		s.release()
	}
	return err
}
