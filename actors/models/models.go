// Package models is the top of the actor tree: the registry of models.
// It owns model creation (one fenced transaction writing the model and its
// name index) and spawns one model guardian per model on demand.
package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// CreateModel creates a model.
type CreateModel struct {
	Name, Owner, Cloud string
}

// ModelCreated answers CreateModel.
type ModelCreated struct{ Model entity.Model }

// ToModel forwards Msg to the guardian of model UUID.
type ToModel struct {
	UUID string
	Msg  any
}

// Config configures the registry.
type Config struct {
	Store    *store.Store
	Strategy actor.SupervisorStrategy
}

type registry struct {
	cfg       Config
	guardians map[string]*actor.PID // owned by the actor goroutine
}

// Props returns the registry's props. Spawn it with actor.WithGuardian so
// it is not under protoactor's implicit root strategy.
func Props(cfg Config) *actor.Props {
	return supervise.WithMailbox(cfg.Strategy, "models", actor.PropsFromProducer(func() actor.Actor {
		return &registry{cfg: cfg}
	}, actor.WithSupervisor(cfg.Strategy), actor.WithGuardian(cfg.Strategy)))
}

func (r *registry) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		r.guardians = map[string]*actor.PID{}
	case *actor.Terminated:
		for k, pid := range r.guardians {
			if pid.Equal(m.Who) {
				delete(r.guardians, k)
			}
		}
	case *CreateModel:
		doc, err := r.create(m)
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		ctx.Respond(&ModelCreated{Model: *doc})
	case *RemoveModel:
		if err := r.remove(ctx, m); err != nil {
			ctx.Respond(&supervise.Failure{Err: err})
			return
		}
		ctx.Respond(&ModelRemoved{})
	case *ToModel:
		pid, ok := r.guardians[m.UUID]
		if !ok {
			pid = ctx.Spawn(model.Props(model.Config{Store: r.cfg.Store, UUID: m.UUID, Strategy: r.cfg.Strategy}))
			r.guardians[m.UUID] = pid
		}
		ctx.RequestWithCustomSender(pid, m.Msg, ctx.Sender())
	}
}

func (r *registry) create(m *CreateModel) (*entity.Model, error) {
	if !entity.ValidModelName(m.Name) {
		return nil, fmt.Errorf("invalid model name %q: use lowercase letters, digits and hyphens", m.Name)
	}
	doc := &entity.Model{UUID: entity.NewUUID(), Name: m.Name, Owner: m.Owner, Cloud: m.Cloud,
		Life: entity.Alive, Created: time.Now().UTC(),
		Status: entity.Status{Current: "available", Since: time.Now()}}
	nameKey := entity.ModelNameKey(m.Owner, m.Name)
	mop, err := store.Put(entity.ModelKey(doc.UUID), doc)
	if err != nil {
		return nil, err
	}
	nop, err := store.Put(nameKey, doc.UUID)
	if err != nil {
		return nil, err
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.cfg.Store.CommitIf(c, []store.Cond{store.Absent(nameKey)}, mop, nop); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("model %q already exists", m.Name)
		}
		return nil, fmt.Errorf("cannot create model: %w", err)
	}
	return doc, nil
}
