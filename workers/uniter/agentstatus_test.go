package uniter

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

// TestStatusSenderOrderAndFlush: statuses are sent in the order set, set
// does not wait for the controller, flush returns only once everything
// set before it was sent, and a refusal is reported by the next flush.
func TestStatusSenderOrderAndFlush(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	gate := make(chan struct{})
	refuse := "refused-one"
	s := newStatusSender("u/0", slog.New(slog.DiscardHandler), func(ctx context.Context, st *apipb.StatusInfo) error {
		<-gate
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, st.Current)
		if st.Current == refuse {
			return status.Error(codes.PermissionDenied, "no")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.run(ctx) }()
	defer func() { cancel(); <-done }()

	for _, st := range []string{"executing", "idle", "executing"} {
		s.set(&apipb.StatusInfo{Current: st}) // must not block on the gate
	}
	flushed := make(chan error, 1)
	go func() { flushed <- s.flush(context.Background()) }()
	select {
	case err := <-flushed:
		t.Fatalf("flush returned (%v) before anything was sent", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	if err := <-flushed; err != nil {
		t.Fatalf("flush: %v", err)
	}
	mu.Lock()
	got := append([]string(nil), sent...)
	mu.Unlock()
	if want := []string{"executing", "idle", "executing"}; !slices.Equal(got, want) {
		t.Fatalf("sent %v, want %v", got, want)
	}

	s.set(&apipb.StatusInfo{Current: refuse})
	if err := s.flush(context.Background()); status.Code(errors.Unwrap(err)) != codes.PermissionDenied {
		t.Fatalf("flush after a refusal: %v, want the refusal", err)
	}
	if err := s.flush(context.Background()); err != nil {
		t.Fatalf("a refusal is reported once: %v", err)
	}
}

// TestStatusSenderKeepsTheUnsentStatus: a status the controller was
// unreachable for stays unsent (the run loop's retry timer stays armed)
// through failed resends, and clears once a resend gets through.
func TestStatusSenderKeepsTheUnsentStatus(t *testing.T) {
	var mu sync.Mutex
	down := true
	calls := make(chan string, 16)
	s := newStatusSender("u/0", slog.New(slog.DiscardHandler), func(ctx context.Context, st *apipb.StatusInfo) error {
		mu.Lock()
		defer mu.Unlock()
		calls <- st.Current
		if down {
			return status.Error(codes.Unavailable, "connection refused")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.run(ctx) }()
	defer func() { cancel(); <-done }()

	s.set(&apipb.StatusInfo{Current: "idle"})
	if err := s.flush(ctx); err != nil {
		t.Fatalf("an unreachable controller is not an error: %v", err)
	}
	select {
	case <-s.Unsent:
	case <-time.After(10 * time.Second):
		t.Fatal("no Unsent signal")
	}
	if !s.hasUnsent() {
		t.Fatal("idle not kept as unsent")
	}
	s.resendUnsent()
	if err := s.flush(ctx); err != nil || !s.hasUnsent() {
		t.Fatalf("failed resend: err %v, unsent %v; want it still unsent", err, s.hasUnsent())
	}
	mu.Lock()
	down = false
	mu.Unlock()
	s.resendUnsent()
	if err := s.flush(ctx); err != nil || s.hasUnsent() {
		t.Fatalf("resend once back: err %v, unsent %v", err, s.hasUnsent())
	}
	if n := len(calls); n != 3 {
		t.Errorf("%d sends, want 3 (the first, a failed resend, the good one)", n)
	}
}
