package ctlmetrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/controller/ctlmetrics"
	"github.com/troupe-dev/troupe/controller/presence"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// TestAgentsByPresence: agents of units and machines with a credential are
// counted by their presence under the model's lost-after; entities
// without an agent yet, and dead ones, are not.
func TestAgentsByPresence(t *testing.T) {
	s, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const mdl = "0b7e6c5a-0000-4000-8000-000000000003"
	var ops []store.Op
	put := func(key string, v any) {
		op, err := store.Put(key, v)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
	}
	put(entity.ModelKey(mdl), entity.Model{UUID: mdl, Name: "default", Life: entity.Alive, Config: map[string]string{"lost-after": "1m"}})
	put(entity.UnitKey(mdl, "a/0"), entity.Unit{Name: "a/0", Life: entity.Alive, PasswordHash: "h"})
	put(entity.UnitKey(mdl, "a/1"), entity.Unit{Name: "a/1", Life: entity.Dying, PasswordHash: "h"})
	put(entity.UnitKey(mdl, "a/2"), entity.Unit{Name: "a/2", Life: entity.Alive}) // not deployed yet
	put(entity.UnitKey(mdl, "a/3"), entity.Unit{Name: "a/3", Life: entity.Dead, PasswordHash: "h"})
	put(entity.MachineKey(mdl, "0"), entity.Machine{ID: "0", Life: entity.Alive, PasswordHash: "h"})
	put(entity.MachineKey(mdl, "1"), entity.Machine{ID: "1", Life: entity.Alive, PasswordHash: "h"})
	if _, err := s.Commit(ctx, ops...); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tr := presence.NewTracker(clock, 0, 10*time.Second)
	tag := func(kind, name string) string { return entity.Tag{Kind: kind, Model: mdl, Name: name}.String() }
	release := tr.Connect(tag(entity.KindUnit, "a/0"))
	defer release()
	tr.Connect(tag(entity.KindMachine, "0"))
	tr.Seen(tag(entity.KindUnit, "a/1"))
	now = now.Add(30 * time.Second) // a/1 and machine 1 out of touch, not yet lost
	want := map[ctlmetrics.AgentKey]int{{"unit", "connected"}: 1, {"unit", "disconnected"}: 1,
		{"machine", "connected"}: 1, {"machine", "disconnected"}: 1}
	check := func(what string) {
		t.Helper()
		got, err := ctlmetrics.CountAgents(ctx, s, tr)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: counts %v, want %v", what, got, want)
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%s: %v = %d, want %d", what, k, got[k], n)
			}
		}
	}
	check("after 30s")
	now = now.Add(time.Minute) // past the model's lost-after
	want = map[ctlmetrics.AgentKey]int{{"unit", "connected"}: 1, {"unit", "lost"}: 1,
		{"machine", "connected"}: 1, {"machine", "lost"}: 1}
	check("after 90s")

	m := ctlmetrics.New()
	if n := series(t, m, ctlmetrics.Agents); n != 0 {
		t.Errorf("without a source: %d agent series, want 0", n)
	}
	stop := m.CountAgentsFrom(s, tr)
	if n := series(t, m, ctlmetrics.Agents); n != 6 {
		t.Errorf("%d agent series, want machine and unit × connected/disconnected/lost = 6", n)
	}
	if got := value(t, m, ctlmetrics.Agents, map[string]string{"kind": "unit", "state": "lost"}); got != 1 {
		t.Errorf("lost units = %v, want 1", got)
	}
	if got := value(t, m, ctlmetrics.Agents, map[string]string{"kind": "machine", "state": "disconnected"}); got != 0 {
		t.Errorf("disconnected machines = %v, want 0", got)
	}
	stop()
	if n := series(t, m, ctlmetrics.Agents); n != 0 {
		t.Errorf("after stop: %d agent series, want 0", n)
	}
}

type blocker struct{ release chan struct{} }

func (b *blocker) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(string); ok {
		<-b.release
	}
}

// TestMailboxDepth: messages posted to a busy actor count as its kind's
// depth until handled; every posted message is counted.
func TestMailboxDepth(t *testing.T) {
	m := ctlmetrics.New()
	sys := actor.NewActorSystem()
	b := &blocker{release: make(chan struct{})}
	props := actor.PropsFromProducer(func() actor.Actor { return b }, actor.WithMailbox(actor.Unbounded(m.Mailbox("unit"))))
	pid := sys.Root.Spawn(props)
	for range 4 {
		sys.Root.Send(pid, "work")
	}
	depth := func() float64 {
		return value(t, m, ctlmetrics.MailboxDepth, map[string]string{"kind": "unit"})
	}
	// The first message is being handled (blocked), three wait: all four
	// count until handled.
	deadline := time.Now().Add(30 * time.Second)
	for depth() != 4 {
		if time.Now().After(deadline) {
			t.Fatalf("depth = %v, want 4 while the actor is busy", depth())
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(b.release)
	for depth() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("depth = %v, want 0 once the actor caught up", depth())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := value(t, m, ctlmetrics.MailboxMessages, map[string]string{"kind": "unit"}); got < 4 {
		t.Errorf("messages posted = %v, want at least 4", got)
	}
	if err := sys.Root.StopFuture(pid).Wait(); err != nil {
		t.Fatal(err)
	}
}
