package models_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/models"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// TestRemoveModel creates a model on a real etcd, refuses to remove it
// while alive, then destroys and removes it: the model document, its name
// index and every key under its prefix are gone, and the name is free.
func TestRemoveModel(t *testing.T) {
	s, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(sys.Shutdown)
	strategy := &supervise.Strategy{MaxRestarts: 5, Window: time.Minute}
	reg := sys.Root.Spawn(models.Props(models.Config{Store: s, Strategy: strategy}))
	ask := func(msg any) (any, error) { return supervise.Ask[any](sys.Root, reg, msg, 10*time.Second) }

	res, err := ask(&models.CreateModel{Name: "doomed", Owner: "admin", Cloud: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	uuid := res.(*models.ModelCreated).Model.UUID
	if _, err := ask(&models.ToModel{UUID: uuid, Msg: &model.AddMachines{N: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ask(&models.RemoveModel{UUID: uuid}); err == nil || !strings.Contains(err.Error(), "is alive") {
		t.Fatalf("removing an alive model: %v", err)
	}
	if _, err := ask(&models.ToModel{UUID: uuid, Msg: &model.Destroy{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ask(&models.RemoveModel{UUID: uuid}); err != nil {
		t.Fatalf("remove: %v", err)
	}
	ctx := context.Background()
	var m entity.Model
	if _, err := s.Get(ctx, entity.ModelKey(uuid), &m); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("model document: %v", err)
	}
	var id string
	if _, err := s.Get(ctx, entity.ModelNameKey("admin", "doomed"), &id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("name index: %v", err)
	}
	if kvs, _, err := s.List(ctx, entity.ModelPrefix(uuid)); err != nil || len(kvs) != 0 {
		t.Errorf("keys left under the model prefix: %d %v", len(kvs), err)
	}
	if _, err := ask(&models.RemoveModel{UUID: uuid}); err != nil {
		t.Errorf("removing a removed model is not a no-op: %v", err)
	}
	if _, err := ask(&models.CreateModel{Name: "doomed", Owner: "admin", Cloud: "localhost"}); err != nil {
		t.Errorf("name not free after removal: %v", err)
	}
}
