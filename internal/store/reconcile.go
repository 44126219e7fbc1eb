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
//
// Passes are paced (PassGap): a pass lists whole prefixes, and with
// hundreds of agents writing status a pass per change kept every
// reconciler busy all the time, each holding a full decoded listing (a
// quarter of the controller's live heap at 500 units). Changes that
// arrive during a pass or its gap are coalesced into the next pass.
func (s *Store) Reconcile(ctx context.Context, prefix string, resync time.Duration, pass func(context.Context) error, onErr func(error)) error {
	wc := s.client.Watch(ctx, prefix, clientv3.WithPrefix())
	tick := time.NewTicker(resync)
	defer tick.Stop()
	for {
		start := time.Now()
		if err := pass(ctx); err != nil && ctx.Err() == nil {
			onErr(err)
		}
		gap := time.NewTimer(PassGap(time.Since(start)))
		changed := false
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				gap.Stop()
				return nil
			case _, ok := <-wc:
				if !ok {
					gap.Stop()
					if ctx.Err() != nil {
						return nil
					}
					return errors.New("store watch closed")
				}
				changed = true
			case <-gap.C:
				waiting = false
			}
		}
		if changed {
			continue
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

// Pacing bounds of PassGap.
const (
	// MinPassGap: while hundreds of agents write status, every write
	// wakes each reconciler (subordinates, cleaner, provisioner); at
	// 20 ms they listed and decoded the whole model ~30 times a second
	// each (16 % of the controller's CPU during a 500-unit settle).
	// 100 ms costs a reaction at most a tenth of a second.
	MinPassGap = 100 * time.Millisecond
	MaxPassGap = 2 * time.Second
)

// PassGap is the least time between the end of a reconcile pass that took
// took and the start of the next: twice the pass, so a reconciler spends
// at most a third of its time passing however fast changes come, within
// [MinPassGap, MaxPassGap]. Pure.
func PassGap(took time.Duration) time.Duration {
	return min(MaxPassGap, max(MinPassGap, 2*took))
}
