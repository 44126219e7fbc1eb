package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestStatusLogRequest(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.Local)
	r, err := statusLogRequest("a/0", "", 0, 0, "", now)
	if err != nil || r.Last != defaultStatusLogCount || r.FromUnixNano != 0 || r.Entity != "a/0" {
		t.Fatalf("default: %+v %v", r, err)
	}
	if r, err := statusLogRequest("a/0", "juju-unit", 5, 0, "", now); err != nil || r.Last != 5 || r.Type != "juju-unit" {
		t.Fatalf("-n 5: %+v %v", r, err)
	}
	if r, err := statusLogRequest("a/0", "", 0, 2, "", now); err != nil || r.Last != 0 || r.FromUnixNano != now.Add(-48*time.Hour).UnixNano() {
		t.Fatalf("--days 2: %+v %v", r, err)
	}
	want := time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local).UnixNano()
	if r, err := statusLogRequest("0", "", 0, 0, "2026-03-01", now); err != nil || r.Last != 0 || r.FromUnixNano != want {
		t.Fatalf("--from-date: %+v %v", r, err)
	}
	for _, c := range []struct {
		n, days int
		from    string
		msg     string
	}{
		{3, 1, "", "cannot be combined"},
		{3, 0, "2026-01-01", "cannot be combined"},
		{-1, 0, "", "positive"},
		{0, 0, "01/02/2026", "YYYY-MM-DD"},
	} {
		if _, err := statusLogRequest("a/0", "", c.n, c.days, c.from, now); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("n=%d days=%d from=%q: %v, want %q", c.n, c.days, c.from, err, c.msg)
		}
	}
}

func TestWriteStatusLog(t *testing.T) {
	var b bytes.Buffer
	if err := writeStatusLog(&b, []StatusLogEntry{{Time: "10 Mar 2026 12:00:00Z", Type: "workload", Status: "active", Message: "ready"},
		{Time: "10 Mar 2026 12:00:01Z", Type: "juju-unit", Status: "idle"}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "Time") || !strings.Contains(lines[1], "workload") || !strings.Contains(lines[1], "ready") {
		t.Fatalf("tabular output:\n%s", b.String())
	}
	// Columns line up: Type starts at the same offset on every line.
	if i, j := strings.Index(lines[0], "Type"), strings.Index(lines[2], "juju-unit"); i != j {
		t.Errorf("Type column at %d, juju-unit at %d:\n%s", i, j, b.String())
	}
}
