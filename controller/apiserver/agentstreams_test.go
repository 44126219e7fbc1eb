package apiserver

import (
	"context"
	"testing"
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
