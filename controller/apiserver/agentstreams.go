package apiserver

import (
	"context"
	"errors"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// agentStreams lets a revocation end the open streams of an agent: every
// authenticated stream registers its cancel func under the caller's tag,
// and cut cancels them all (the agent's next call then fails
// authentication). The zero value is ready to use.
type agentStreams struct {
	mu   sync.Mutex
	next int
	open map[string]map[int]context.CancelCauseFunc // tag -> id -> cancel
}

// errStopping is the cause of the streams cutAll ends.
var errStopping = errors.New("the controller is stopping")

// streamEnd is the status a stream ends with once its handler returned
// err: a stream the stopping server cut is Unavailable, so that agents
// take it as the controller being away (watch again once it is back)
// rather than as the end of the watch (a worker error, restarted after
// the engine's error delay). Anything else is err as it is.
func streamEnd(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errStopping) {
		return status.Error(codes.Unavailable, "the controller is stopping; reconnect")
	}
	return err
}

// track derives a cancellable context for a stream of tag; done must be
// called when the stream ends.
func (a *agentStreams) track(ctx context.Context, tag string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	a.mu.Lock()
	if a.open == nil {
		a.open = map[string]map[int]context.CancelCauseFunc{}
	}
	if a.open[tag] == nil {
		a.open[tag] = map[int]context.CancelCauseFunc{}
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
		cancel(nil)
	}
}

// cut ends every open stream of tag.
func (a *agentStreams) cut(tag string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, cancel := range a.open[tag] {
		cancel(nil)
	}
}

// cutAll ends every open stream (the server is stopping: watches never
// end by themselves, and waiting for them only keeps agents away).
func (a *agentStreams) cutAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, streams := range a.open {
		for _, cancel := range streams {
			cancel(errStopping)
		}
	}
}
