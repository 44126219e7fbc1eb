package model_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/actors/unit"
	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// TestParkedEntityIsRecordedAndRetriedAfterCoolOff: a unit whose
// document cannot be loaded fails every request at once; past the
// restart intensity the guardian parks it, records it in the model
// document (what status shows), refuses requests with ErrParked, and
// after the cool-off gives it a fresh start, which succeeds once the
// document is readable again and clears the record.
func TestParkedEntityIsRecordedAndRetriedAfterCoolOff(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{Dir: t.TempDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	mop, _ := store.Put(ent.ModelKey(uuid), &ent.Model{UUID: uuid, Name: "default", Life: ent.Alive})
	if _, err := s.Commit(ctx, mop); err != nil {
		t.Fatal(err)
	}
	unitKey := ent.UnitKey(uuid, "a/0")
	if _, err := s.Client().Put(ctx, unitKey, "{corrupt"); err != nil {
		t.Fatal(err)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(sys.Shutdown)
	strategy := &supervise.Strategy{MaxRestarts: 3, Window: time.Minute, Logger: slog.New(slog.DiscardHandler)}
	const coolOff = 500 * time.Millisecond
	pid := sys.Root.Spawn(model.Props(model.Config{Store: s, UUID: uuid, Strategy: strategy, ParkCoolOff: coolOff,
		Logger: slog.New(slog.DiscardHandler)}))
	resolve := func() error {
		_, err := supervise.Ask[*unit.Done](sys.Root, pid, &model.Route{Kind: model.KindUnit, ID: "a/0", Msg: &unit.ClearResolved{}}, 5*time.Second)
		return err
	}
	for i := 0; i < 4; i++ {
		err := resolve()
		if err == nil || !errors.Is(err, supervise.ErrPanicked) || !strings.Contains(err.Error(), "cannot load") {
			t.Fatalf("request %d: %v, want an immediate panic error naming the load failure", i, err)
		}
	}
	// The fourth panic exceeded the intensity: the very next request,
	// sent at once, is refused as parked (the guardian records the
	// parking before the failing caller hears back, so no fresh actor
	// with a fresh restart budget can slip in between).
	if err := resolve(); !errors.Is(err, model.ErrParked) {
		t.Fatalf("request right after the fourth panic: %v, want ErrParked", err)
	}
	parkedAt := time.Now()
	var m ent.Model
	if _, err := s.Get(ctx, ent.ModelKey(uuid), &m); err != nil {
		t.Fatal(err)
	}
	if p, ok := m.Parked["unit/a/0"]; !ok || !strings.Contains(p.Reason, "cannot load") {
		t.Fatalf("model document's parked set: %+v", m.Parked)
	}
	// The document is repaired; the unit stays parked until the cool-off.
	uop, _ := store.Put(unitKey, &ent.Unit{Name: "a/0", Application: "a", Life: ent.Alive, Resolved: "no-hooks"})
	if _, err := s.Commit(ctx, uop); err != nil {
		t.Fatal(err)
	}
	if err := resolve(); !errors.Is(err, model.ErrParked) && time.Since(parkedAt) < coolOff {
		t.Fatalf("within the cool-off: %v, want ErrParked", err)
	}
	time.Sleep(coolOff)
	if err := resolve(); err != nil {
		t.Fatalf("after the cool-off and the repair: %v", err)
	}
	var after ent.Model
	if _, err := s.Get(ctx, ent.ModelKey(uuid), &after); err != nil || len(after.Parked) != 0 {
		t.Fatalf("parked record not cleared: %+v %v", after.Parked, err)
	}
	var u ent.Unit
	if _, err := s.Get(ctx, unitKey, &u); err != nil || u.Resolved != "" {
		t.Errorf("the restarted unit did not handle the request: %+v %v", u, err)
	}
}
