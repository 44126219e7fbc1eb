package api

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"
)

// Throttled streams. A watch (WatchUnit, WatchMachine, …) opened as the
// first call of a fresh connection is a login, and in a reconnect storm
// the controller may refuse it with "login throttled … retry after D".
// The refusal arrives on the stream's first Recv, not from the call, so
// the unary retry (retryThrottled) never sees it, and the worker holding
// the watch would stop and wait out its engine's error delay (3 s ×
// 1.2ⁿ) before watching again. retryThrottledStream re-opens such a
// server-streaming call after ThrottleWait instead, as many times as a
// unary call is retried, so the worker only sees a watch that started
// late.

// retryThrottledStream is a stream client interceptor; client-streaming
// calls are passed through untouched (their messages cannot be replayed).
func (d *redialer) retryThrottledStream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil || desc.ClientStreams {
		return cs, err
	}
	return &throttledStream{ClientStream: cs, ctx: ctx, open: func() (grpc.ClientStream, error) {
		return streamer(ctx, desc, cc, method, opts...)
	}, wait: func(err error, n int) time.Duration { return ThrottleWait(err, n, d.cap, d.randFloat()) }}, nil
}

// throttledStream is a server-streaming call that, while it has received
// nothing, re-opens itself when the controller refuses it as a throttled
// login. Like any ClientStream, RecvMsg is called from one goroutine.
type throttledStream struct {
	grpc.ClientStream
	ctx      context.Context
	open     func() (grpc.ClientStream, error)
	wait     func(err error, n int) time.Duration
	req      any  // the one request, kept to replay it
	received bool // a message arrived: the call was admitted
	retries  int
}

func (s *throttledStream) SendMsg(m any) error {
	s.req = m
	return s.ClientStream.SendMsg(m)
}

func (s *throttledStream) RecvMsg(m any) error {
	for {
		err := s.ClientStream.RecvMsg(m)
		if err == nil {
			s.received = true
			return nil
		}
		if s.received || s.req == nil || s.retries >= throttleRetries || !IsLoginThrottled(err) {
			return err
		}
		t := time.NewTimer(s.wait(err, s.retries))
		s.retries++
		select {
		case <-s.ctx.Done():
			t.Stop()
			return errors.Join(err, s.ctx.Err())
		case <-t.C:
		}
		cs, oerr := s.open()
		if oerr != nil {
			return oerr
		}
		if serr := cs.SendMsg(s.req); serr != nil {
			s.ClientStream = cs
			continue // the stream's status comes with RecvMsg
		}
		if cerr := cs.CloseSend(); cerr != nil {
			return cerr
		}
		s.ClientStream = cs
	}
}
