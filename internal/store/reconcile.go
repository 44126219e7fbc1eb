package store

import (
	"context"
	"errors"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Reconcile runs pass now, after every change under prefix, and at least
// every resync, until ctx is cancelled. It is the loop of level-triggered
// controller workers: pass recomputes what to do from the current state,
// so coalesced or missed notifications only delay convergence. A pass
// error goes to onErr and the loop goes on; Reconcile returns nil when ctx
// ends and an error if the store's watch closes.
func (s *Store) Reconcile(ctx context.Context, prefix string, resync time.Duration, pass func(context.Context) error, onErr func(error)) error {
	wc := s.client.Watch(ctx, prefix, clientv3.WithPrefix())
	tick := time.NewTicker(resync)
	defer tick.Stop()
	for {
		if err := pass(ctx); err != nil && ctx.Err() == nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-wc:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("store watch closed")
			}
		case <-tick.C:
		}
	}
}
