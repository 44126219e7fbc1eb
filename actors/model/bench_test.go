package model_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/actors/unit"
	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// BenchmarkUnitStatusActorVsEtcd (issue 3, benchmark 1): unit status
// updates through the unit's actor (route, validate, fenced commit,
// apply, reply) against the floor measured in the same run: the same
// document written by a fenced commit straight to etcd. Reports
// updates/s of each and their ratio.
func BenchmarkUnitStatusActorVsEtcd(b *testing.B) {
	s, sys, pid := setup(b)
	if _, err := supervise.Ask[*model.Deployed](sys.Root, pid, &model.Deploy{Charm: ent.Charm{Name: "c", SHA256: "x"},
		App: ent.Application{Name: "app"}, NumUnits: 1}, 10*time.Second); err != nil {
		b.Fatal(err)
	}
	const rounds = 200
	ctx := context.Background()
	var actorTime, etcdTime time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		for j := 0; j < rounds; j++ {
			msg := &model.Route{Kind: model.KindUnit, ID: "app/0", Msg: &unit.SetStatus{Workload: &ent.Status{Current: "active", Message: fmt.Sprint(i, j)}}}
			if _, err := supervise.Ask[*unit.Done](sys.Root, pid, msg, 10*time.Second); err != nil {
				b.Fatal(err)
			}
		}
		actorTime += time.Since(start)
		start = time.Now()
		for j := 0; j < rounds; j++ {
			u := ent.Unit{Name: "floor/0", Application: "floor", Life: ent.Alive, Workload: ent.Status{Current: "active", Message: fmt.Sprint(i, j)}}
			op, err := store.Put(ent.UnitKey(uuid, "floor/0"), &u)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Commit(ctx, op); err != nil {
				b.Fatal(err)
			}
		}
		etcdTime += time.Since(start)
	}
	n := float64(b.N * rounds)
	b.ReportMetric(n/actorTime.Seconds(), "actor-updates/s")
	b.ReportMetric(n/etcdTime.Seconds(), "etcd-updates/s")
	b.ReportMetric(actorTime.Seconds()/etcdTime.Seconds(), "actor/etcd-time")
}

// BenchmarkIdleUnitEntityMemory (issue 3, benchmark 2): the memory held
// per idle unit entity with 10 000 unit actors loaded, against the floor
// of the unit documents' own encoded size: the process's resident set
// (VmRSS, what the issue asks for; it includes the embedded etcd and the
// runtime's free spans) and the live heap (HeapInuse, the actors alone),
// each as bytes per unit and as a ratio to the floor.
func BenchmarkIdleUnitEntityMemory(b *testing.B) {
	const units, batch = 10000, 1000
	for i := 0; i < b.N; i++ {
		s, sys, pid := setup(b) // closed by setup's cleanups
		ask := func(msg any) any {
			res, err := supervise.Ask[any](sys.Root, pid, msg, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			return res
		}
		ask(&model.Deploy{Charm: ent.Charm{Name: "c", SHA256: "x"}, App: ent.Application{Name: "app"}, NumUnits: 0})
		var names []string
		for len(names) < units {
			names = append(names, ask(&model.AddUnits{App: "app", NumUnits: batch}).(*model.UnitsAdded).Units...)
		}
		heap := func() uint64 {
			runtime.GC()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return ms.HeapInuse
		}
		rssBefore, before := rss(b), heap()
		for _, n := range names {
			// A no-op status write loads the actor and leaves it idle.
			ask(&model.Route{Kind: model.KindUnit, ID: n, Msg: &unit.SetStatus{}})
		}
		rssAfter, after := rss(b), heap()
		var docBytes int
		kvs, _, err := s.List(context.Background(), ent.UnitsPrefix(uuid, "app"))
		if err != nil {
			b.Fatal(err)
		}
		for _, kv := range kvs {
			docBytes += len(kv.Value)
		}
		var sample ent.Unit
		if err := json.Unmarshal(kvs[0].Value, &sample); err != nil {
			b.Fatal(err)
		}
		perUnit, doc := float64(after-before)/units, float64(docBytes)/units
		rssPerUnit := (float64(rssAfter) - float64(rssBefore)) / units
		b.ReportMetric(rssPerUnit, "rss-B/unit-entity")
		b.ReportMetric(perUnit, "heap-B/unit-entity")
		b.ReportMetric(doc, "doc-B/unit")
		b.ReportMetric(rssPerUnit/doc, "rss/doc")
		b.ReportMetric(perUnit/doc, "heap/doc")
	}
}

// rss is the process's resident set in bytes (VmRSS of /proc/self/status)
// after a collection that returns free memory to the system, so that
// garbage and idle spans do not count.
func rss(b *testing.B) uint64 {
	b.Helper()
	debug.FreeOSMemory()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatalf("cannot read the resident set: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatalf("cannot parse VmRSS %q: %v", v, err)
			}
			return kb * 1024
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
