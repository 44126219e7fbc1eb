package apiserver

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestAgentStreamsCut(t *testing.T) {
	var a agentStreams
	m1, done1 := a.track(context.Background(), "machine-1@m")
	m1b, _ := a.track(context.Background(), "machine-1@m")
	m2, done2 := a.track(context.Background(), "machine-2@m")
	defer done2()
	done1() // ended on its own: no longer tracked, and cancelled
	if m1.Err() == nil {
		t.Error("done did not cancel its context")
	}
	a.cut("machine-1@m")
	if m1b.Err() == nil {
		t.Error("cut left a stream of the revoked agent open")
	}
	if m2.Err() != nil {
		t.Error("cut ended another agent's stream")
	}
	if n := len(a.open["machine-1@m"]); n != 1 {
		t.Errorf("%d streams tracked for machine-1 (its second was never done), want 1", n)
	}
}

func TestAgentStreamsCutAll(t *testing.T) {
	var a agentStreams
	m, _ := a.track(context.Background(), "machine-1@m")
	u, _ := a.track(context.Background(), "unit-a-0@m")
	w, _ := a.track(context.Background(), "user-admin")
	a.cutAll()
	for name, ctx := range map[string]context.Context{"machine": m, "unit": u, "user": w} {
		if ctx.Err() == nil {
			t.Errorf("cutAll left the %s's stream open", name)
		}
	}
}

// TestStreamEnd: a stream the stopping server cut ends Unavailable (the
// agent watches again when the controller is back); one cut for a
// revocation, or ended by its handler, ends as the handler said.
func TestStreamEnd(t *testing.T) {
	var a agentStreams
	stopped, _ := a.track(context.Background(), "unit-a-0@m")
	revoked, _ := a.track(context.Background(), "unit-a-1@m")
	a.cut("unit-a-1@m")
	a.cutAll()
	if err := streamEnd(stopped, nil); status.Code(err) != codes.Unavailable {
		t.Errorf("stream cut by a stopping server ends with %v; want Unavailable", err)
	}
	if err := streamEnd(revoked, nil); err != nil {
		t.Errorf("stream cut by a revocation ends with %v; want its handler's nil", err)
	}
	own, done := a.track(context.Background(), "unit-a-2@m")
	denied := status.Error(codes.PermissionDenied, "permission denied")
	if err := streamEnd(own, denied); !errors.Is(err, denied) {
		t.Errorf("handler error came out as %v", err)
	}
	done()
	if err := streamEnd(own, nil); err != nil {
		t.Errorf("stream that ended by itself: %v; want nil", err)
	}
}
