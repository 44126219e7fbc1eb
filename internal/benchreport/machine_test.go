package benchreport_test

import (
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/benchreport"
)

// TestDescribeMachine reads this (Linux) host: every field is filled in
// from /proc.
func TestDescribeMachine(t *testing.T) {
	m := benchreport.DescribeMachine(time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC))
	if m.CPUs < 1 || m.Model == "unknown" || m.MemoryKB <= 0 || !strings.HasPrefix(m.Kernel, "Linux ") ||
		!strings.HasPrefix(m.GoVersion, "go") || m.Date != "2026-12-02T01:00:00Z" || len(strings.Fields(m.LoadAvg)) != 3 {
		t.Fatalf("machine description incomplete: %+v", m)
	}
}
