package api

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/pki"
)

// tagServer is a TLS gRPC server whose health service records, per call,
// the tag and password it carried and the transport connection it came
// on.
type tagServer struct {
	healthpb.UnimplementedHealthServer
	mu    sync.Mutex
	calls []seenCall
	conns int // transport connections opened
}

type seenCall struct{ tag, password, peer string }

func (s *tagServer) record(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	p, _ := peer.FromContext(ctx)
	c := seenCall{peer: p.Addr.String()}
	if v := md.Get(MDTag); len(v) == 1 {
		c.tag = v[0]
	}
	if v := md.Get(MDPassword); len(v) == 1 {
		c.password = v[0]
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

func (s *tagServer) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	s.record(ctx)
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func (s *tagServer) Watch(_ *healthpb.HealthCheckRequest, ss grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	s.record(ss.Context())
	if err := ss.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}); err != nil {
		return err
	}
	<-ss.Context().Done()
	return nil
}

func (s *tagServer) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (s *tagServer) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (s *tagServer) HandleRPC(context.Context, stats.RPCStats)                         {}
func (s *tagServer) HandleConn(_ context.Context, st stats.ConnStats) {
	if _, ok := st.(*stats.ConnBegin); ok {
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
	}
}

func (s *tagServer) seen() ([]seenCall, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenCall(nil), s.calls...), s.conns
}

// serveTLS starts a tagServer and returns it with an Info (no
// credentials) reaching it.
func serveTLS(t *testing.T) (*tagServer, Info) {
	t.Helper()
	ca, err := pki.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := pki.IssueServer(ca, []string{"127.0.0.1", pki.ServerName})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(sb.CertPEM, sb.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &tagServer{}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})), grpc.StatsHandler(ts))
	healthpb.RegisterHealthServer(srv, ts)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	return ts, Info{Addresses: []string{l.Addr().String()}, CACert: string(ca.CertPEM)}
}

func withCreds(info Info, tag, pw string) Info {
	info.Tag, info.Password = tag, pw
	return info
}

// TestPoolSharesOneTransport: two agents' Conns from one pool reach the
// controller over one TLS connection, yet every call, unary or stream,
// carries its own agent's tag and password; closing one leaves the other
// working, and the last Close closes the transport.
func TestPoolSharesOneTransport(t *testing.T) {
	ts, info := serveTLS(t)
	pool := NewPool()
	machine, err := pool.Dial(withCreds(info, "machine-m-0", "pw-machine"))
	if err != nil {
		t.Fatal(err)
	}
	unit, err := pool.Dial(withCreds(info, "unit-m-app-0", "pw-unit"))
	if err != nil {
		t.Fatal(err)
	}
	if n := pool.Transports(); n != 1 {
		t.Fatalf("pool holds %d transports for two agents of one controller; want 1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	check := func(c *Conn) error {
		_, err := healthpb.NewHealthClient(c.ClientConn()).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	for _, c := range []*Conn{machine, unit, machine} {
		if err := check(c); err != nil {
			t.Fatal(err)
		}
	}
	watch, err := healthpb.NewHealthClient(unit.ClientConn()).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil {
		t.Fatal(err)
	}
	calls, conns := ts.seen()
	want := []seenCall{{"machine-m-0", "pw-machine", ""}, {"unit-m-app-0", "pw-unit", ""}, {"machine-m-0", "pw-machine", ""}, {"unit-m-app-0", "pw-unit", ""}}
	if len(calls) != len(want) {
		t.Fatalf("server saw %d calls, want %d: %v", len(calls), len(want), calls)
	}
	for i, c := range calls {
		if c.tag != want[i].tag || c.password != want[i].password {
			t.Errorf("call %d carried %s/%s; want %s/%s", i, c.tag, c.password, want[i].tag, want[i].password)
		}
		if c.peer != calls[0].peer {
			t.Errorf("call %d came from %s, call 0 from %s: not one transport", i, c.peer, calls[0].peer)
		}
	}
	if conns != 1 {
		t.Errorf("server saw %d transport connections; want 1", conns)
	}

	// Closing the unit's Conn ends its stream and its later calls, not
	// the machine's.
	if err := unit.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); status.Code(err) != codes.Canceled {
		t.Errorf("the closed Conn's watch ended with %v; want Canceled", err)
	}
	if err := check(unit); status.Code(err) != codes.Canceled {
		t.Errorf("a call on the closed Conn: %v; want Canceled", err)
	}
	if err := check(machine); err != nil {
		t.Fatalf("the other agent's call after one Conn closed: %v", err)
	}
	if n := pool.Transports(); n != 1 {
		t.Fatalf("pool holds %d transports with one agent left; want 1", n)
	}
	if _, conns := ts.seen(); conns != 1 {
		t.Errorf("server saw %d transport connections; want still 1", conns)
	}
	if err := unit.Close(); err != nil { // twice is harmless
		t.Fatal(err)
	}
	if err := machine.Close(); err != nil {
		t.Fatal(err)
	}
	if n := pool.Transports(); n != 0 {
		t.Fatalf("pool holds %d transports after the last Close; want 0", n)
	}
	// A new agent after that dials a new transport.
	again, err := pool.Dial(withCreds(info, "unit-m-app-1", "pw-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if err := check(again); err != nil {
		t.Fatal(err)
	}
	if _, conns := ts.seen(); conns != 2 {
		t.Errorf("server saw %d transport connections; want 2 (the first closed with its last Conn)", conns)
	}
}

// TestPoolKeysByController: Conns to different controllers (addresses,
// CA) or with another backoff cap get transports of their own; a nil pool
// dials one per Conn.
func TestPoolKeysByController(t *testing.T) {
	_, a := serveTLS(t)
	_, b := serveTLS(t)
	pool := NewPool()
	capped := a
	capped.BackoffCap = "1s"
	for _, info := range []Info{a, a, b, capped} {
		c, err := pool.Dial(withCreds(info, "unit-m-app-0", "pw"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	if n := pool.Transports(); n != 3 {
		t.Errorf("pool holds %d transports; want 3 (a shared, b, a with another cap)", n)
	}
	var none *Pool
	c, err := none.Dial(withCreds(a, "unit-m-app-0", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestPoolRedialTellsEveryAgent: a re-dial of the shared transport is
// reported to every agent on it.
func TestPoolRedialTellsEveryAgent(t *testing.T) {
	_, info := serveTLS(t)
	pool := NewPool()
	var mu sync.Mutex
	told := map[string]int{}
	conns := map[string]*Conn{}
	for _, tag := range []string{"machine-m-0", "unit-m-app-0"} {
		i := withCreds(info, tag, "pw")
		i.OnRedial = func() { mu.Lock(); told[tag]++; mu.Unlock() }
		c, err := pool.Dial(i)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[tag] = c
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := healthpb.NewHealthClient(conns["unit-m-app-0"].ClientConn()).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err) // the transport's first connect: no re-dial
	}
	sh := pool.shared[poolKey{info.Addresses[0], info.CACert, ""}]
	nc, err := sh.t.rd.dial(ctx, "") // as gRPC does after a drop
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	mu.Lock()
	defer mu.Unlock()
	for tag, c := range conns {
		if told[tag] != 1 || c.Reconnects() != 1 {
			t.Errorf("%s: told %d times, Reconnects %d; want 1 and 1", tag, told[tag], c.Reconnects())
		}
	}
}
