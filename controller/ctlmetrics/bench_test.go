package ctlmetrics_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/troupe-dev/troupe/controller/ctlmetrics"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// BenchmarkEntityCount: counting 500 units (plus their machines and the
// model) on a scrape, as a ratio to the floor of reading the same
// documents with one raw List per kind (measured in the same run).
func BenchmarkEntityCount(b *testing.B) {
	s, err := store.Open(context.Background(), store.Config{Dir: b.TempDir(), Fast: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const mdl = "0b7e6c5a-0000-4000-8000-000000000002"
	const n = 500
	put := func(key string, v any) {
		op, err := store.Put(key, v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Commit(ctx, op); err != nil {
			b.Fatal(err)
		}
	}
	put(entity.ModelKey(mdl), entity.Model{UUID: mdl, Name: "default", Life: entity.Alive})
	put(entity.ApplicationKey(mdl, "hello"), map[string]any{"name": "hello", "life": "alive"})
	for i := range n {
		put(entity.UnitKey(mdl, fmt.Sprintf("hello/%d", i)), entity.Unit{Name: fmt.Sprintf("hello/%d", i), Life: entity.Alive})
		put(entity.MachineKey(mdl, fmt.Sprint(i)), entity.Machine{ID: fmt.Sprint(i), Life: entity.Alive})
	}
	prefixes := []string{entity.ModelsPrefix, entity.ModelPrefix(mdl) + "app/", entity.ModelPrefix(mdl) + "unit/",
		entity.ModelPrefix(mdl) + "machine/", entity.ModelPrefix(mdl) + "relation/"}
	// Each iteration times the floor and the count back to back, so both
	// see the same machine load.
	var floor, count time.Duration
	for b.Loop() {
		t0 := time.Now()
		for _, p := range prefixes {
			if _, _, err := s.List(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		counts, err := ctlmetrics.CountEntities(ctx, s)
		if err != nil || counts[ctlmetrics.EntityKey{Kind: "unit", Life: "alive"}] != n {
			b.Fatalf("count: %v %v", counts, err)
		}
		floor, count = floor+t1.Sub(t0), count+time.Since(t1)
	}
	b.ReportMetric(float64(count)/float64(floor), "x-raw-list")
	b.ReportMetric(float64(count.Nanoseconds())/float64(b.N), "count-ns")
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "raw-list-ns")
}

// BenchmarkUnaryInterceptor: the metrics interceptor around a handler, as
// a ratio to a pass-through interceptor (the floor), in the same run.
func BenchmarkUnaryInterceptor(b *testing.B) {
	m := ctlmetrics.New()
	info := &grpc.UnaryServerInfo{FullMethod: "/troupe.v1.Controller/Deploy"}
	ctx := callerCtx("user-admin")
	h := func(ctx context.Context, req any) (any, error) { return req, nil }
	pass := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return h(ctx, req)
	}
	const batch = 1000
	var floor, observed time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			pass(ctx, nil, info, h)
		}
		t1 := time.Now()
		for range batch {
			m.Unary(ctx, nil, info, h)
		}
		floor, observed = floor+t1.Sub(t0), observed+time.Since(t1)
	}
	b.ReportMetric(float64(observed)/float64(max(floor, 1)), "x-passthrough")
	b.ReportMetric(float64(observed.Nanoseconds())/float64(b.N*batch), "interceptor-ns")
}
