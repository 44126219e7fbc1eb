package ctlmetrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/controller/ctlmetrics"
	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

func callerCtx(tag string) context.Context {
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs(api.MDTag, tag, api.MDPassword, "x"))
}

// scrape returns the registry's text exposition.
func scrape(t *testing.T, m *ctlmetrics.Metrics, names ...string) string {
	t.Helper()
	var b strings.Builder
	mfs, err := m.Registry().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, n := range names {
			if mf.GetName() == n {
				b.WriteString(mf.String())
				b.WriteByte('\n')
			}
		}
	}
	return b.String()
}

func TestUnaryCountsRequestsLatencyAndLogins(t *testing.T) {
	m := ctlmetrics.New()
	info := &grpc.UnaryServerInfo{FullMethod: "/troupe.v1.Controller/Deploy"}
	ok := func(ctx context.Context, req any) (any, error) { return "done", nil }
	refused := func(ctx context.Context, req any) (any, error) {
		return nil, status.Error(codes.Unauthenticated, "invalid credentials")
	}
	for range 3 {
		if res, err := m.Unary(callerCtx("user-admin"), nil, info, ok); err != nil || res != "done" {
			t.Fatalf("interceptor changed the call: %v %v", res, err)
		}
	}
	if _, err := m.Unary(callerCtx("unit-hello-0"), nil, info, refused); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("interceptor changed the error: %v", err)
	}
	if got := value(t, m, ctlmetrics.APIRequests, map[string]string{"method": "Deploy", "code": "OK"}); got != 3 {
		t.Errorf("Deploy OK requests = %v, want 3", got)
	}
	if got := value(t, m, ctlmetrics.APIRequests, map[string]string{"method": "Deploy", "code": "Unauthenticated"}); got != 1 {
		t.Errorf("Deploy Unauthenticated requests = %v, want 1", got)
	}
	if got := value(t, m, ctlmetrics.Authentications, map[string]string{"kind": "user", "result": "ok"}); got != 3 {
		t.Errorf("user ok logins = %v, want 3", got)
	}
	if got := value(t, m, ctlmetrics.Authentications, map[string]string{"kind": "unit", "result": "failed"}); got != 1 {
		t.Errorf("unit failed logins = %v, want 1", got)
	}
	if out := scrape(t, m, ctlmetrics.APILatency); !strings.Contains(out, "sample_count:4") {
		t.Errorf("latency histogram must hold 4 samples:\n%s", out)
	}
}

type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (f fakeStream) Context() context.Context { return f.ctx }

func TestStreamCountsConnectedAgents(t *testing.T) {
	m := ctlmetrics.New()
	connected := func(kind string) float64 {
		return value(t, m, ctlmetrics.AgentsConnected, map[string]string{"kind": kind})
	}
	info := &grpc.StreamServerInfo{FullMethod: "/troupe.v1.Controller/WatchUnit"}
	inside := make(chan float64, 1)
	err := m.Stream(nil, fakeStream{ctx: callerCtx("unit-hello-0")}, info, func(srv any, ss grpc.ServerStream) error {
		inside <- connected("unit")
		return status.Error(codes.Canceled, "agent went away")
	})
	if status.Code(err) != codes.Canceled {
		t.Fatalf("interceptor changed the error: %v", err)
	}
	if got := <-inside; got != 1 {
		t.Errorf("connected units during the stream = %v, want 1", got)
	}
	if got := connected("unit"); got != 0 {
		t.Errorf("connected units after the stream = %v, want 0", got)
	}
	if got := value(t, m, ctlmetrics.AgentStreamEnds, map[string]string{"kind": "unit"}); got != 1 {
		t.Errorf("unit disconnects = %v, want 1", got)
	}
	// Other streams are requests, not agents.
	other := &grpc.StreamServerInfo{FullMethod: "/troupe.v1.Controller/WatchTask"}
	m.Stream(nil, fakeStream{ctx: callerCtx("user-admin")}, other, func(any, grpc.ServerStream) error { return nil })
	if got := value(t, m, ctlmetrics.APIRequests, map[string]string{"method": "WatchTask", "code": "OK"}); got != 1 {
		t.Errorf("WatchTask requests = %v, want 1", got)
	}
}

// An agent holding two watch streams (a machine agent's deployer and its
// credential worker) is one connected agent, until its last stream ends.
func TestAgentWithTwoStreamsCountsOnce(t *testing.T) {
	m := ctlmetrics.New()
	connected := func() float64 {
		return value(t, m, ctlmetrics.AgentsConnected, map[string]string{"kind": "machine"})
	}
	info := &grpc.StreamServerInfo{FullMethod: "/troupe.v1.Controller/WatchMachine"}
	firstIn, firstOut := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- m.Stream(nil, fakeStream{ctx: callerCtx("machine-m-0")}, info, func(any, grpc.ServerStream) error {
			close(firstIn)
			<-firstOut
			return nil
		})
	}()
	<-firstIn
	var during float64
	m.Stream(nil, fakeStream{ctx: callerCtx("machine-m-0")}, info, func(any, grpc.ServerStream) error {
		during = connected()
		return nil
	})
	if during != 1 {
		t.Errorf("connected machines with two streams of one agent = %v, want 1", during)
	}
	if got := connected(); got != 1 {
		t.Errorf("connected machines after one of its two streams ended = %v, want 1", got)
	}
	close(firstOut)
	<-done
	if got := connected(); got != 0 {
		t.Errorf("connected machines after both streams ended = %v, want 0", got)
	}
	if got := value(t, m, ctlmetrics.AgentStreamEnds, map[string]string{"kind": "machine"}); got != 1 {
		t.Errorf("machine disconnects = %v, want 1 (the agent's last stream)", got)
	}
}

func TestActorAndStoreObservers(t *testing.T) {
	m := ctlmetrics.New()
	m.ActorRestarted()
	m.ActorRestarted()
	m.ActorParked()
	m.ObserveStore("commit", time.Millisecond, nil)
	m.ObserveStore("commit", time.Millisecond, store.ErrConflict)
	m.ObserveStore("get", time.Millisecond, store.ErrNotFound)
	m.ObserveStore("get", time.Millisecond, errors.New("etcd down"))
	if got := value(t, m, ctlmetrics.ActorRestarts, nil); got != 2 {
		t.Errorf("restarts = %v, want 2", got)
	}
	if got := value(t, m, ctlmetrics.ActorsParked, nil); got != 1 {
		t.Errorf("parked = %v, want 1", got)
	}
	if got := value(t, m, ctlmetrics.StoreErrors, map[string]string{"op": "get"}); got != 1 {
		t.Errorf("get errors = %v, want 1 (not-found is not an error)", got)
	}
	out := scrape(t, m, ctlmetrics.StoreLatency, ctlmetrics.StoreErrors)
	if strings.Count(out, "sample_count:2") != 2 {
		t.Errorf("want 2 commit and 2 get latency samples:\n%s", out)
	}
	if got := value(t, m, ctlmetrics.StoreErrors, map[string]string{"op": "commit"}); got != -1 {
		t.Errorf("commit errors = %v, want no series (a conflict is not an error)", got)
	}
}

// TestEntitiesFromStore counts real documents in a real store, and a
// scrape without a store reports no entity series.
func TestEntitiesFromStore(t *testing.T) {
	s, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const mdl = "0b7e6c5a-0000-4000-8000-000000000001"
	var ops []store.Op
	put := func(key string, v any) {
		op, err := store.Put(key, v)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
	}
	put(entity.ModelKey(mdl), entity.Model{UUID: mdl, Name: "default", Life: entity.Alive})
	put(entity.ApplicationKey(mdl, "hello"), map[string]any{"name": "hello", "life": "alive"})
	put(entity.UnitKey(mdl, "hello/0"), map[string]any{"name": "hello/0", "life": "alive"})
	put(entity.UnitKey(mdl, "hello/1"), map[string]any{"name": "hello/1", "life": "alive"})
	put(entity.UnitKey(mdl, "hello/2"), map[string]any{"name": "hello/2", "life": "dying"})
	put(entity.MachineKey(mdl, "0"), map[string]any{"id": "0", "life": "alive"})
	put(entity.RelationUnitKey(mdl, 1, "hello/0"), map[string]any{"unit": "hello/0"}) // not a relation
	if _, err := s.Commit(ctx, ops...); err != nil {
		t.Fatal(err)
	}
	counts, err := ctlmetrics.CountEntities(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[ctlmetrics.EntityKey]int{{"model", "alive"}: 1, {"application", "alive"}: 1,
		{"unit", "alive"}: 2, {"unit", "dying"}: 1, {"machine", "alive"}: 1}
	if len(counts) != len(want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%v = %d, want %d", k, counts[k], n)
		}
	}

	m := ctlmetrics.New()
	if n := series(t, m, ctlmetrics.Entities); n != 0 {
		t.Errorf("without a store: %d entity series, want 0", n)
	}
	stop := m.CountEntitiesFrom(s)
	if n := series(t, m, ctlmetrics.Entities); n != len(ctlmetrics.EntityKinds)*3 {
		t.Errorf("%d entity series, want every kind × alive/dying/dead = %d", n, len(ctlmetrics.EntityKinds)*3)
	}
	if got := value(t, m, ctlmetrics.Entities, map[string]string{"kind": "unit", "life": "alive"}); got != 2 {
		t.Errorf("alive units = %v, want 2", got)
	}
	if got := value(t, m, ctlmetrics.Entities, map[string]string{"kind": "relation", "life": "alive"}); got != 0 {
		t.Errorf("alive relations = %v, want 0", got)
	}
	stop()
	if n := series(t, m, ctlmetrics.Entities); n != 0 {
		t.Errorf("after stop: %d entity series, want 0", n)
	}
}

func TestTallyRejectsCorruptDocuments(t *testing.T) {
	err := ctlmetrics.Tally(map[ctlmetrics.EntityKey]int{}, "unit", []store.KV{{Key: "/troupe/x", Value: []byte("{")}})
	if err == nil || !strings.Contains(err.Error(), "/troupe/x") {
		t.Fatalf("corrupt document: got %v, want an error naming the key", err)
	}
}

func family(t *testing.T, m *ctlmetrics.Metrics, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

func series(t *testing.T, m *ctlmetrics.Metrics, name string) int {
	t.Helper()
	return len(family(t, m, name).GetMetric())
}

// value is the counter or gauge value (a histogram's sample count) of the
// series of name with exactly labels; -1 when there is none.
func value(t *testing.T, m *ctlmetrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
next:
	for _, mt := range family(t, m, name).GetMetric() {
		if len(mt.GetLabel()) != len(labels) {
			continue
		}
		for _, lp := range mt.GetLabel() {
			if labels[lp.GetName()] != lp.GetValue() {
				continue next
			}
		}
		switch {
		case mt.Counter != nil:
			return mt.GetCounter().GetValue()
		case mt.Gauge != nil:
			return mt.GetGauge().GetValue()
		case mt.Histogram != nil:
			return float64(mt.GetHistogram().GetSampleCount())
		}
	}
	return -1
}
