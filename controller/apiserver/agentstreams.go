package apiserver

import (
	"context"
	"sync"
)

// agentStreams lets a revocation end the open streams of an agent: every
// authenticated stream registers its cancel func under the caller's tag,
// and cut cancels them all (the agent's next call then fails
// authentication). The zero value is ready to use.
type agentStreams struct {
	mu   sync.Mutex
	next int
	open map[string]map[int]context.CancelFunc // tag -> id -> cancel
}

// track derives a cancellable context for a stream of tag; done must be
// called when the stream ends.
func (a *agentStreams) track(ctx context.Context, tag string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	a.mu.Lock()
	if a.open == nil {
		a.open = map[string]map[int]context.CancelFunc{}
	}
	if a.open[tag] == nil {
		a.open[tag] = map[int]context.CancelFunc{}
	}
	id := a.next
	a.next++
	a.open[tag][id] = cancel
	a.mu.Unlock()
	return ctx, func() {
		a.mu.Lock()
		delete(a.open[tag], id)
		if len(a.open[tag]) == 0 {
			delete(a.open, tag)
		}
		a.mu.Unlock()
		cancel()
	}
}

// cut ends every open stream of tag.
func (a *agentStreams) cut(tag string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, cancel := range a.open[tag] {
		cancel()
	}
}

// cutAll ends every open stream (the server is stopping: watches never
// end by themselves, and waiting for them only keeps agents away).
func (a *agentStreams) cutAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, streams := range a.open {
		for _, cancel := range streams {
			cancel()
		}
	}
}
