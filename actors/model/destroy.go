package model

import (
	"context"
	"fmt"
	"time"

	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Destroy marks the model dying (`troupe destroy-model`). The guardian
// then refuses new deployments, units and machines; the API server
// destroys the applications and machines, and the cleaner removes the
// model's documents once none is left. Idempotent.
type Destroy struct{}

// Destroying answers Destroy with the model document as persisted.
type Destroying struct{ Model ent.Model }

// errDying is returned for requests that would add to a dying model.
func (g *guardian) errDying() error {
	if g.model != nil && g.model.Life != ent.Alive {
		return fmt.Errorf("model %q is being destroyed; add a new model with `troupe add-model`", g.model.Name)
	}
	return nil
}

func (g *guardian) destroy() (*Destroying, error) {
	if g.model.Life != ent.Alive {
		return &Destroying{Model: *g.model}, nil
	}
	next := *g.model
	next.Life = ent.Dying
	next.Status = ent.Status{Current: "destroying", Message: "the model is being destroyed", Since: time.Now()}
	op, err := store.Put(ent.ModelKey(g.cfg.UUID), &next)
	if err != nil {
		return nil, err
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.cfg.Store.Commit(c, op); err != nil {
		return nil, fmt.Errorf("cannot mark model %q dying: %w", g.model.Name, err)
	}
	g.model = &next
	return &Destroying{Model: next}, nil
}
