package api

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// throttlingHealth refuses its first refusals Watch calls as the login
// limiter does, then streams one SERVING answer per call.
type throttlingHealth struct {
	healthpb.UnimplementedHealthServer
	refusals int32
	opened   atomic.Int32
	service  atomic.Value // the service name of the last call, to check the replayed request
}

func (h *throttlingHealth) Watch(req *healthpb.HealthCheckRequest, ss grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	h.service.Store(req.Service)
	if h.opened.Add(1) <= h.refusals {
		return status.Error(codes.ResourceExhausted, "login throttled: the controller is limiting agent logins; retry after 10ms")
	}
	if err := ss.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}); err != nil {
		return err
	}
	return status.Error(codes.Unavailable, "controller stopping") // after a message: never retried
}

func serveHealth(t *testing.T, h healthpb.HealthServer) healthpb.HealthClient {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, h)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	d := &redialer{cap: time.Second, randFloat: func() float64 { return 0.5 }}
	cc, err := grpc.NewClient("passthrough:///"+l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainStreamInterceptor(d.retryThrottledStream))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return healthpb.NewHealthClient(cc)
}

// TestThrottledStreamIsReopened: a watch refused as a throttled login is
// opened again with the same request, and the caller sees the answer,
// not the refusal; once a message arrived, a later error is returned as
// it is.
func TestThrottledStreamIsReopened(t *testing.T) {
	h := &throttlingHealth{refusals: 2}
	client := serveHealth(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "unit-a-0"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := stream.Recv()
	if err != nil {
		t.Fatalf("Recv after two throttled opens: %v; want the answer of the third", err)
	}
	if res.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("got %v", res.Status)
	}
	if got := h.opened.Load(); got != 3 {
		t.Errorf("server saw %d opens; want 3 (two refused, one admitted)", got)
	}
	if got := h.service.Load(); got != "unit-a-0" {
		t.Errorf("the re-opened call asked for %q; want the original request's unit-a-0", got)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("error after a message: %v; want the server's Unavailable, not a retry", err)
	}
	if got := h.opened.Load(); got != 3 {
		t.Errorf("server saw %d opens after the stream ended; want still 3", got)
	}
}

// TestThrottledStreamGivesUp: a watch refused every time returns the
// throttling error after throttleRetries re-opens.
func TestThrottledStreamGivesUp(t *testing.T) {
	h := &throttlingHealth{refusals: 1 << 30}
	client := serveHealth(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); !IsLoginThrottled(err) {
		t.Fatalf("Recv: %v; want the login-throttled refusal once retries are spent", err)
	}
	if got, want := h.opened.Load(), int32(throttleRetries+1); got != want {
		t.Errorf("server saw %d opens; want %d (the call and %d retries)", got, want, throttleRetries)
	}
}
