package cli

import (
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

func TestFormatLogLine(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 34, 56, 789e6, time.UTC)
	r := &apipb.LogRecord{Entity: "unit-mysql-0", TimeUnixNano: at.UnixNano(), Level: "INFO",
		Module: "juju.worker.uniter.operation", Message: `ran "install" hook`}
	plus2 := time.FixedZone("plus2", 2*3600)
	cases := []struct {
		o    logLineOptions
		want string
	}{
		{logLineOptions{loc: time.UTC}, `unit-mysql-0: 12:34:56 INFO juju.worker.uniter.operation ran "install" hook`},
		{logLineOptions{loc: time.UTC, ms: true}, `unit-mysql-0: 12:34:56.789 INFO juju.worker.uniter.operation ran "install" hook`},
		{logLineOptions{loc: time.UTC, date: true}, `unit-mysql-0: 2026-12-01 12:34:56 INFO juju.worker.uniter.operation ran "install" hook`},
		{logLineOptions{loc: plus2, date: true, ms: true}, `unit-mysql-0: 2026-12-01 14:34:56.789 INFO juju.worker.uniter.operation ran "install" hook`},
	}
	for _, c := range cases {
		if got := formatLogLine(r, c.o); got != c.want {
			t.Errorf("%+v:\n got  %s\n want %s", c.o, got, c.want)
		}
	}
}
