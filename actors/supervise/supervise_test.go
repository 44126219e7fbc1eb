package supervise_test

import (
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/supervise"
)

type counts struct{ restarted, parked atomic.Int64 }

func (c *counts) ActorRestarted() { c.restarted.Add(1) }
func (c *counts) ActorParked()    { c.parked.Add(1) }

type boom struct{}

// TestObserverCountsRestartsAndParks: each panic below the restart
// intensity is one restart; the one past it parks the actor. The observer
// has seen the event by the time the sender gets its Failure reply.
func TestObserverCountsRestartsAndParks(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	obs := &counts{}
	strategy := &supervise.Strategy{MaxRestarts: 2, Window: time.Hour, Logger: slog.New(slog.DiscardHandler), Observer: obs}
	props := actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*boom); ok {
			panic("boom")
		}
	}, actor.WithGuardian(strategy))
	pid := sys.Root.Spawn(props)
	for i, want := range []struct{ restarted, parked int64 }{{1, 0}, {2, 0}, {2, 1}} {
		_, err := supervise.Ask[any](sys.Root, pid, &boom{}, 5*time.Second)
		if !errors.Is(err, supervise.ErrPanicked) {
			t.Fatalf("panic %d: got %v, want ErrPanicked", i+1, err)
		}
		if r, p := obs.restarted.Load(), obs.parked.Load(); r != want.restarted || p != want.parked {
			t.Fatalf("after panic %d: restarted %d parked %d, want %d %d", i+1, r, p, want.restarted, want.parked)
		}
	}
}
