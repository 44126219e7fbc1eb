package tests

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

type statusLogEntry struct {
	Time    string `json:"time"`
	Type    string `json:"type"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func (e *env) statusLog(t *testing.T, args ...string) []statusLogEntry {
	t.Helper()
	r := e.mustTroupe(commandTimeout, append([]string{"show-status-log", "--format", "json"}, args...)...)
	var out []statusLogEntry
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("show-status-log %v: %v\n%s", args, err, r.stdout)
	}
	return out
}

// index is the position of the first entry at or after from of type typ
// and status st, or -1.
func index(es []statusLogEntry, from int, typ, st string) int {
	for i := max(from, 0); i < len(es); i++ {
		if es[i].Type == typ && es[i].Status == st {
			return i
		}
	}
	return -1
}

// TestShowStatusLog: a deployed hello unit's history shows its agent go
// allocating → executing (install) → idle, and its workload waiting →
// maintenance (set by install) → active (set by start), in commit order;
// the machine's history shows its instance and agent; the type, count
// and format options work.
func TestShowStatusLog(t *testing.T) {
	t.Parallel() // mostly waiting on agents; see tests/doc.go
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello")
	waitFor(t, e, readyTimeout, "hello/0 active and idle", appsReady(map[string]int{"hello": 1}))

	es := e.statusLog(t, "hello/0", "-n", "100")
	dump := func() string {
		var b strings.Builder
		for _, x := range es {
			b.WriteString(x.Type + " " + x.Status + " " + x.Message + "\n")
		}
		return b.String()
	}
	if len(es) == 0 || es[0].Type != "workload" || es[0].Status != "waiting" {
		t.Fatalf("history does not start with the unit's creation (workload waiting):\n%s", dump())
	}
	alloc := index(es, 0, "juju-unit", "allocating")
	exec := index(es, alloc, "juju-unit", "executing")
	maint := index(es, exec, "workload", "maintenance")
	active := index(es, maint, "workload", "active")
	idle := index(es, active, "juju-unit", "idle")
	if alloc < 0 || exec < 0 || maint < 0 || active < 0 || idle < 0 {
		t.Fatalf("want juju-unit allocating → executing → workload maintenance → active → juju-unit idle, in order; got:\n%s", dump())
	}
	if es[exec].Message != "running install hook" || es[maint].Message != "installing" || es[active].Message != "hello from hello/0" {
		t.Errorf("unexpected messages: %q, %q, %q", es[exec].Message, es[maint].Message, es[active].Message)
	}
	for _, x := range es {
		if x.Type != "workload" && x.Type != "juju-unit" {
			t.Errorf("unit history has an entry of type %q", x.Type)
		}
		if x.Time == "" {
			t.Errorf("entry without a time: %+v", x)
		}
	}

	// Filters: one type; the last N; the default count (20).
	for _, x := range e.statusLog(t, "hello/0", "--type", "juju-unit") {
		if x.Type != "juju-unit" {
			t.Errorf("--type juju-unit shows %+v", x)
		}
	}
	if last := e.statusLog(t, "hello/0", "-n", "2"); len(last) != 2 || last[1] != es[len(es)-1] {
		t.Errorf("-n 2: got %+v, want the last two of the history", last)
	}
	if def := e.statusLog(t, "hello/0"); len(def) != min(len(es), 20) {
		t.Errorf("default count: got %d entries, want %d", len(def), min(len(es), 20))
	}

	// Tabular: Juju's columns.
	r := e.mustTroupe(commandTimeout, "show-status-log", "hello/0")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if f := strings.Fields(lines[0]); len(f) != 4 || f[0] != "Time" || f[1] != "Type" || f[2] != "Status" || f[3] != "Message" {
		t.Errorf("tabular header %q", lines[0])
	}
	if !strings.Contains(r.stdout, "juju-unit") || !strings.Contains(r.stdout, "hello from hello/0") {
		t.Errorf("tabular output lacks entries:\n%s", r.stdout)
	}

	// The machine: instance and agent statuses.
	ms := e.statusLog(t, "0")
	if index(ms, 0, "machine", "pending") < 0 || index(ms, 0, "juju-machine", "started") < 0 {
		t.Errorf("machine 0 history lacks machine pending or juju-machine started:\n%+v", ms)
	}

	// Bad input says what to do.
	if r := e.troupe(commandTimeout, "show-status-log", "0", "--type", "workload"); r.code == 0 || !strings.Contains(r.stderr, "juju-machine") {
		t.Errorf("--type workload on a machine: %s", r)
	}
	if r := e.troupe(commandTimeout, "show-status-log", "nosuch/0"); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("unknown unit: %s", r)
	}
	if r := e.troupe(commandTimeout, "show-status-log", "hello/0", "-n", "3", "--days", "1"); r.code == 0 {
		t.Errorf("-n with --days must be refused: %s", r)
	}
}
