package taskdoc

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

var (
	enq  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()
	strt = enq + int64(time.Second)
	cmpl = enq + 2*int64(time.Second)
)

func fullTask() *apipb.TaskInfo {
	return &apipb.TaskInfo{
		Id: "2", OperationId: "1", Unit: "hello/0", Action: "greet", ParamsJson: []byte(`{"name":"x"}`),
		Status: "completed", Message: "all good",
		ResultsJson:      []byte(`{"a":{"b":"c"},"return-code":0,"stdout":"hi\n"}`),
		Log:              []*apipb.TaskLogEntry{{Message: "step one", TimeUnixNano: strt}},
		EnqueuedUnixNano: enq, StartedUnixNano: strt, CompletedUnixNano: cmpl,
	}
}

// TestTaskDocument pins the task JSON of §5.4 key for key.
func TestTaskDocument(t *testing.T) {
	doc, err := Task(fullTask())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(doc)
	want := `{"id":"2","log":["2026-01-02 03:04:06 +0000 UTC step one"],"message":"all good",` +
		`"results":{"a":{"b":"c"},"return-code":0,"stdout":"hi\n"},"status":"completed",` +
		`"timing":{"completed":"2026-01-02 03:04:07 +0000 UTC","enqueued":"2026-01-02 03:04:05 +0000 UTC","started":"2026-01-02 03:04:06 +0000 UTC"},` +
		`"unit":"hello/0"}`
	if string(got) != want {
		t.Errorf("task JSON:\n got %s\nwant %s", got, want)
	}
	if _, ok := doc["results"].(map[string]any)["return-code"].(int); !ok {
		t.Error("return-code must be an int")
	}
}

// TestTaskDocumentOmitsEmpty: optional maps and lists are absent, never
// null; the required keys stay.
func TestTaskDocumentOmitsEmpty(t *testing.T) {
	doc, err := Task(&apipb.TaskInfo{Id: "4", Unit: "hello/1", Status: "pending", EnqueuedUnixNano: enq})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(doc)
	want := `{"id":"4","status":"pending","timing":{"enqueued":"2026-01-02 03:04:05 +0000 UTC"},"unit":"hello/1"}`
	if string(got) != want {
		t.Errorf("task JSON:\n got %s\nwant %s", got, want)
	}
	if _, err := Task(&apipb.TaskInfo{Id: "5", ResultsJson: []byte("[")}); err == nil {
		t.Error("invalid results JSON must be an error")
	}
}

func TestFailures(t *testing.T) {
	withRC := func(id, status, results string) *apipb.TaskInfo {
		return &apipb.TaskInfo{Id: id, Status: status, ResultsJson: []byte(results)}
	}
	tasks := []*apipb.TaskInfo{
		withRC("1", "completed", `{"return-code":0}`),
		withRC("2", "failed", `{"return-code":0}`), // action-fail: not a CLI failure
		withRC("3", "failed", `{"return-code":3}`),
		{Id: "4", Status: "error"},
		{Id: "5", Status: "cancelled"},
		{Id: "6", Status: "completed"},
	}
	want := []string{` - id "3" with return code 3`, ` - id "4" with status error`, ` - id "5" with status cancelled`}
	if got := Failures(tasks); !reflect.DeepEqual(got, want) {
		t.Errorf("Failures = %q, want %q", got, want)
	}
}

func TestOperationStatus(t *testing.T) {
	ts := func(statuses ...string) []*apipb.TaskInfo {
		var out []*apipb.TaskInfo
		for _, s := range statuses {
			out = append(out, &apipb.TaskInfo{Status: s})
		}
		return out
	}
	for _, tt := range []struct {
		tasks []*apipb.TaskInfo
		want  string
	}{
		{ts("completed", "completed"), "completed"},
		{ts("completed", "running", "pending"), "running"},
		{ts("completed", "pending"), "pending"},
		{ts("failed", "completed"), "failed"},
		{ts("failed", "error"), "error"},
		{ts("cancelled", "completed"), "cancelled"},
	} {
		if got := OperationStatus(tt.tasks); got != tt.want {
			t.Errorf("OperationStatus(%v) = %q, want %q", tt.tasks, got, tt.want)
		}
	}
}

func TestOperationDocumentAndTable(t *testing.T) {
	op := &apipb.OperationInfo{Id: "1", Action: "greet", Summary: "greet run on unit-hello-0", EnqueuedUnixNano: enq,
		Tasks: []*apipb.TaskInfo{fullTask()}}
	got, _ := json.Marshal(Operation(op))
	want := `{"action":{"name":"greet","parameters":{"name":"x"}},"status":"completed","summary":"greet run on unit-hello-0",` +
		`"tasks":{"2":{"host":"hello/0","message":"all good","status":"completed","timing":{"completed":"2026-01-02 03:04:07 +0000 UTC","enqueued":"2026-01-02 03:04:05 +0000 UTC","started":"2026-01-02 03:04:06 +0000 UTC"}}},` +
		`"timing":{"completed":"2026-01-02 03:04:07 +0000 UTC","enqueued":"2026-01-02 03:04:05 +0000 UTC","started":"2026-01-02 03:04:06 +0000 UTC"}}`
	if string(got) != want {
		t.Errorf("operation JSON:\n got %s\nwant %s", got, want)
	}
	table := Tabular([]*apipb.OperationInfo{op})
	wantTable := strings.Join([]string{
		"ID  Status     Started              Finished             Task IDs  Summary",
		"1   completed  2026-01-02 03:04:06  2026-01-02 03:04:07  2         greet run on unit-hello-0",
		"",
	}, "\n")
	if table != wantTable {
		t.Errorf("table:\n%s\nwant:\n%s", table, wantTable)
	}
}
