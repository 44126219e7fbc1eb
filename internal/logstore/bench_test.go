package logstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/logstore"
)

// BenchmarkAppend measures one SendLogs batch (100 records) appended with
// the fsync the controller does, against the same append without fsync
// (the floor: encoding and write), interleaved in each iteration.
// Reported per batch and as the ratio sync/nosync.
func BenchmarkAppend(b *testing.B) {
	batch := make([]logstore.Record, 100)
	for i := range batch {
		batch[i] = logstore.Record{Entity: "unit-hello-0", Time: time.Now(), Level: logstore.Info,
			Module: "unit.hello/0.juju-log", Message: fmt.Sprintf("hello: running install %d", i)}
	}
	open := func(noSync bool) *logstore.Store {
		s, err := logstore.Open(logstore.Config{Dir: b.TempDir(), NoSync: noSync})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	syncS, noSyncS := open(false), open(true)
	var syncNs, noSyncNs int64
	for b.Loop() {
		for _, c := range []struct {
			s  *logstore.Store
			ns *int64
		}{{syncS, &syncNs}, {noSyncS, &noSyncNs}} {
			start := time.Now()
			if _, err := c.s.Append("m", batch); err != nil {
				b.Fatal(err)
			}
			*c.ns += time.Since(start).Nanoseconds()
		}
	}
	b.ReportMetric(float64(syncNs)/float64(b.N)/1e3, "sync-µs/batch")
	b.ReportMetric(float64(noSyncNs)/float64(b.N)/1e3, "nosync-µs/batch")
	b.ReportMetric(float64(syncNs)/float64(noSyncNs), "sync/nosync")
}
