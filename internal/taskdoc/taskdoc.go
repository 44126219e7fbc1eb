// Package taskdoc builds the documents `troupe run`, `troupe show-task`
// and `troupe operations` print, key for key Juju 3.6's (cli-contract
// §5.4): a task is
//
//	{"id": "2", "status": "completed", "unit": "hello/0",
//	 "results": {...action-set values..., "return-code": 0, "stdout": "..."},
//	 "message": "...", "log": ["2026-01-02 03:04:05 +0000 UTC text"],
//	 "timing": {"enqueued": "...", "started": "...", "completed": "..."}}
//
// with optional maps and lists omitted when empty (never null) and
// return-code a JSON number. It also decides what an operation's status
// is and whether `troupe run` must exit non-zero. It is pure: it reads
// apipb values and returns documents and decisions; the CLI prints them.
package taskdoc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
)

// TimeFormat is Juju's format for task timings and log lines.
const TimeFormat = "2006-01-02 15:04:05 -0700 MST"

// FormatTime renders a unix-nano time as Juju does, in UTC; zero gives "".
func FormatTime(unixNano int64) string {
	if unixNano == 0 {
		return ""
	}
	return time.Unix(0, unixNano).UTC().Format(TimeFormat)
}

// Task is the task document.
func Task(t *apipb.TaskInfo) (map[string]any, error) {
	doc := map[string]any{"id": t.Id, "status": t.Status, entity.ReceiverKind(t.Unit): t.Unit}
	results, err := Results(t)
	if err != nil {
		return nil, err
	}
	if len(results) > 0 {
		doc["results"] = results
	}
	if t.Message != "" {
		doc["message"] = t.Message
	}
	if len(t.Log) > 0 {
		lines := make([]string, len(t.Log))
		for i, l := range t.Log {
			lines[i] = FormatTime(l.TimeUnixNano) + " " + l.Message
		}
		doc["log"] = lines
	}
	timing := map[string]any{}
	for k, v := range map[string]int64{"enqueued": t.EnqueuedUnixNano, "started": t.StartedUnixNano, "completed": t.CompletedUnixNano} {
		if v != 0 {
			timing[k] = FormatTime(v)
		}
	}
	if len(timing) > 0 {
		doc["timing"] = timing
	}
	return doc, nil
}

// Results decodes a task's results; return-code becomes an int.
func Results(t *apipb.TaskInfo) (map[string]any, error) {
	if len(t.ResultsJson) == 0 {
		return nil, nil
	}
	var results map[string]any
	if err := json.Unmarshal(t.ResultsJson, &results); err != nil {
		return nil, fmt.Errorf("task %s has invalid results: %w", t.Id, err)
	}
	if rc, ok := results["return-code"].(float64); ok {
		results["return-code"] = int(rc)
	}
	return results, nil
}

// ReturnCode is the task's return-code result, 0 when absent.
func ReturnCode(t *apipb.TaskInfo) int {
	r, err := Results(t)
	if err != nil {
		return 0
	}
	rc, _ := r["return-code"].(int)
	return rc
}

// Finished reports whether the task reached a final status.
func Finished(status string) bool {
	switch status {
	case "completed", "failed", "error", "cancelled", "aborted":
		return true
	}
	return false
}

// Failures lists the tasks that make `troupe run` exit non-zero, as Juju
// words them (` - id "2" with return code 1`): a non-zero return code, or
// a task that ended in error, cancelled or aborted. A task failed through
// action-fail with return code 0 is not one (the contract's rule: exit 0,
// status "failed" in the document).
func Failures(tasks []*apipb.TaskInfo) []string {
	var out []string
	for _, t := range tasks {
		rc := ReturnCode(t)
		switch {
		case rc != 0:
			out = append(out, fmt.Sprintf(" - id %q with return code %d", t.Id, rc))
		case t.Status == "error" || t.Status == "cancelled" || t.Status == "aborted":
			out = append(out, fmt.Sprintf(" - id %q with status %s", t.Id, t.Status))
		}
	}
	return out
}

// OperationStatus derives an operation's status from its tasks: running
// while any runs, pending while any waits, else the worst final status
// (error, failed, cancelled, completed).
func OperationStatus(tasks []*apipb.TaskInfo) string {
	has := func(s string) bool {
		return slices.ContainsFunc(tasks, func(t *apipb.TaskInfo) bool { return t.Status == s })
	}
	for _, s := range []string{"running", "pending", "error", "failed", "cancelled", "aborted"} {
		if has(s) {
			return s
		}
	}
	return "completed"
}

// Operation is the document of one operation in `troupe operations
// --format json|yaml`.
func Operation(op *apipb.OperationInfo) map[string]any {
	doc := map[string]any{"summary": op.Summary, "status": OperationStatus(op.Tasks)}
	action := map[string]any{"name": op.Action}
	tasks := map[string]any{}
	var started, completed int64
	for i, t := range op.Tasks {
		if i == 0 && len(t.ParamsJson) > 0 {
			var params map[string]any
			if json.Unmarshal(t.ParamsJson, &params) == nil && len(params) > 0 {
				action["parameters"] = params
			}
		}
		td := map[string]any{"host": t.Unit, "status": t.Status}
		if t.Message != "" {
			td["message"] = t.Message
		}
		timing := map[string]any{}
		if t.EnqueuedUnixNano != 0 {
			timing["enqueued"] = FormatTime(t.EnqueuedUnixNano)
		}
		if t.StartedUnixNano != 0 {
			timing["started"] = FormatTime(t.StartedUnixNano)
			if started == 0 || t.StartedUnixNano < started {
				started = t.StartedUnixNano
			}
		}
		if t.CompletedUnixNano != 0 {
			timing["completed"] = FormatTime(t.CompletedUnixNano)
			completed = max(completed, t.CompletedUnixNano)
		}
		if len(timing) > 0 {
			td["timing"] = timing
		}
		tasks[t.Id] = td
	}
	doc["action"] = action
	if len(tasks) > 0 {
		doc["tasks"] = tasks
	}
	timing := map[string]any{"enqueued": FormatTime(op.EnqueuedUnixNano)}
	if started != 0 {
		timing["started"] = FormatTime(started)
	}
	if completed != 0 && Finished(doc["status"].(string)) {
		timing["completed"] = FormatTime(completed)
	}
	doc["timing"] = timing
	return doc
}

// Tabular renders operations as Juju's `operations` table.
func Tabular(ops []*apipb.OperationInfo) string {
	rows := [][]string{{"ID", "Status", "Started", "Finished", "Task IDs", "Summary"}}
	for _, op := range ops {
		d := Operation(op)
		timing := d["timing"].(map[string]any)
		str := func(k string) string { s, _ := timing[k].(string); return shortTime(s) }
		ids := make([]string, len(op.Tasks))
		for i, t := range op.Tasks {
			ids[i] = t.Id
		}
		rows = append(rows, []string{op.Id, d["status"].(string), str("started"), str("completed"), strings.Join(ids, ","), op.Summary})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				line.WriteString(c)
				break
			}
			fmt.Fprintf(&line, "%-*s  ", widths[i], c)
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	return b.String()
}

// shortTime drops the zone of a TimeFormat time for the table.
func shortTime(s string) string {
	if len(s) >= len("2006-01-02 15:04:05") {
		return s[:len("2006-01-02 15:04:05")]
	}
	return s
}
