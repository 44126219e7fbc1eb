package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/statushistory"
	"github.com/troupe-dev/troupe/internal/store"
)

// RemoveModel removes a dying model whose entities are all gone: its
// guardian is stopped, then the model document, its name index and every
// key under the model's prefix go in one fenced transaction. The cleaner
// sends it; a model that is not dying is refused.
type RemoveModel struct{ UUID string }

// ModelRemoved answers RemoveModel.
type ModelRemoved struct{}

func (r *registry) remove(ctx actor.Context, m *RemoveModel) error {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var doc entity.Model
	rev, err := r.cfg.Store.Get(c, entity.ModelKey(m.UUID), &doc)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read model %s: %w", m.UUID, err)
	}
	if doc.Life == entity.Alive {
		return fmt.Errorf("model %q is alive; destroy it first", doc.Name)
	}
	if pid, ok := r.guardians[m.UUID]; ok {
		// The guardian is the model document's writer: stop it before the
		// document goes, so nothing writes it back.
		if err := ctx.StopFuture(pid).Wait(); err != nil {
			return fmt.Errorf("cannot stop the guardian of model %q: %w", doc.Name, err)
		}
		delete(r.guardians, m.UUID)
	}
	_, err = r.cfg.Store.CommitIf(c, []store.Cond{store.Unchanged(entity.ModelKey(m.UUID), rev)},
		store.DeletePrefix(entity.ModelPrefix(m.UUID)),
		store.DeletePrefix(statushistory.Prefix(m.UUID)),
		store.Delete(entity.ModelKey(m.UUID)),
		store.Delete(entity.ModelNameKey(doc.Owner, doc.Name)))
	if err != nil {
		return fmt.Errorf("cannot remove model %q: %w", doc.Name, err)
	}
	return nil
}
