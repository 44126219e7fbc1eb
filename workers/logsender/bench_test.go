package logsender_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/workers/logsender"
)

// BenchmarkHandler measures what the tee costs the uniter per log call:
// the plain text handler agent.log uses (the floor) against the same
// handler wrapped in a logsender.Handler, interleaved in each iteration,
// reported as the ratio tee/plain.
func BenchmarkHandler(b *testing.B) {
	const rounds = 1000
	plain := slog.New(slog.NewTextHandler(io.Discard, nil)).With("unit", "a/0")
	buf := logsender.NewBuffer(1000)
	tee := slog.New(logsender.NewHandler(slog.NewTextHandler(io.Discard, nil), buf, "juju.worker.uniter")).With("unit", "a/0")
	var plainNs, teeNs int64
	for b.Loop() {
		b.StopTimer()
		for _, c := range []struct {
			l  *slog.Logger
			ns *int64
		}{{plain, &plainNs}, {tee, &teeNs}} {
			start := nanotime()
			for i := 0; i < rounds; i++ {
				c.l.Info("running operation", "op", "run install hook")
			}
			*c.ns += nanotime() - start
		}
		b.StartTimer()
	}
	n := float64(b.N) * rounds
	b.ReportMetric(float64(plainNs)/n, "plain-ns/log")
	b.ReportMetric(float64(teeNs)/n, "tee-ns/log")
	b.ReportMetric(float64(teeNs)/float64(plainNs), "tee/plain")
}

func nanotime() int64 { return time.Now().UnixNano() }
