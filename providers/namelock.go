package providers

import (
	"context"
	"sync"
)

// NameLocks serialises calls per instance name, so a provider's Start and
// Stop of one instance never interleave while different instances proceed
// in parallel. The zero value is ready to use.
type NameLocks struct {
	mu    sync.Mutex
	locks map[string]chan struct{} // one per instance name; guarded by mu
}

// Lock takes the lock of name, giving up when ctx is done. A call whose
// ctx is already done never takes it.
func (n *NameLocks) Lock(ctx context.Context, name string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n.mu.Lock()
	if n.locks == nil {
		n.locks = make(map[string]chan struct{})
	}
	l, ok := n.locks[name]
	if !ok {
		l = make(chan struct{}, 1)
		n.locks[name] = l
	}
	n.mu.Unlock()
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
