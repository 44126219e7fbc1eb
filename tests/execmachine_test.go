package tests

import (
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestExecMachine: `exec --machine 0` runs a shell line on the model's
// machine 0, by its machine agent under the machine lock, and prints
// {"0": TASK} (§5.4); a non-zero exit is a completed task with the
// return code and the command's output, and the CLI exits non-zero with
// "task failed" (§3.4); show-task and operations show the machine task;
// an unknown machine exits 0 with empty stdout and the reason on stderr.
func TestExecMachine(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello")
	waitFor(t, e, readyTimeout, "machine 0 started", func(doc statusDoc) bool {
		_, ok := doc.Machines["0"]
		return ok
	})

	r := e.troupe(commandTimeout, "exec", "--machine", "0", "--format", "json", "--", "echo hi; echo err >&2; exit 3")
	if r.err != nil || r.code == 0 || !strings.Contains(r.stderr, "task failed") {
		t.Fatalf("a failing machine exec must exit non-zero with \"task failed\": %s", r)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("exec stdout is not one JSON document: %v\n%s", err, r)
	}
	task, ok := doc["0"]
	if len(doc) != 1 || !ok {
		t.Fatalf("exec --machine 0 must print {\"0\": TASK}, got %s", r.stdout)
	}
	id, _ := task["id"].(string)
	if n, err := strconv.Atoi(id); err != nil || n < 1 {
		t.Errorf("task id %v is not a positive number as a string", task["id"])
	}
	if task["status"] != "completed" {
		t.Errorf("status %v, want completed (Juju completes an exec whatever its exit code)", task["status"])
	}
	if task["machine"] != "0" {
		t.Errorf("machine %v, want \"0\"", task["machine"])
	}
	if _, ok := task["unit"]; ok {
		t.Errorf("a machine task has no unit: %v", task)
	}
	if want := map[string]any{"return-code": float64(3), "stdout": "hi\n", "stderr": "err\n"}; !reflect.DeepEqual(task["results"], want) {
		t.Errorf("results %v, want %v", task["results"], want)
	}
	if _, ok := task["message"]; ok {
		t.Errorf("a completed exec has no message: %v", task["message"])
	}
	timing, _ := task["timing"].(map[string]any)
	for _, k := range []string{"enqueued", "started", "completed"} {
		if s, _ := timing[k].(string); s == "" {
			t.Errorf("timing.%s missing: %v", k, task["timing"])
		}
	}

	// The command ran under the machine lock (its log line is written on
	// release, just after the task is finished).
	lockLog := ""
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		lockLog = ""
		for _, p := range findFiles(t, e.home, "machine-lock.log") {
			data, _ := os.ReadFile(p)
			lockLog += string(data)
		}
		if strings.Contains(lockLog, "machine-0: machine-0 (exec task "+id+")") {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the machine lock log does not show exec task %s:\n%s", id, lockLog)
			break
		}
	}

	// show-task and operations show the machine task.
	shown := e.mustTroupe(commandTimeout, "show-task", id, "--format", "json")
	var st map[string]any
	if err := json.Unmarshal([]byte(shown.stdout), &st); err != nil {
		t.Fatalf("show-task %s --format json: %v\n%s", id, err, shown)
	}
	if st["status"] != "completed" || st["machine"] != "0" || !reflect.DeepEqual(st["results"], task["results"]) {
		t.Errorf("show-task %s: %v, want the exec's task %v", id, st, task)
	}
	if ops := e.mustTroupe(commandTimeout, "operations"); !strings.Contains(ops.stdout, "juju-exec run on machine-0") {
		t.Errorf("operations lacks the machine exec:\n%s", ops.stdout)
	}

	// A --wait that cannot be met times out (§3.4); the
	// next exec runs after it, as tasks of a machine run one at a time.
	if r := e.troupe(commandTimeout, "exec", "--machine", "0", "--wait", "0.001s", "--", "sleep 1"); r.code == 0 || !strings.Contains(r.stderr, "timed out") {
		t.Errorf("exec --machine 0 --wait 0.001s must time out: %s", r)
	}

	// A command plus args, plain output: the command's stdout.
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if r := e.mustTroupe(commandTimeout, "exec", "--machine", "0", "--", "hostname"); r.stdout != host+"\n" {
		t.Errorf("exec --machine 0 -- hostname: got %q, want %q", r.stdout, host+"\n")
	}

	// An unknown machine: Juju 3.6's exit 0, empty stdout, reason on stderr.
	r = e.troupe(commandTimeout, "exec", "--machine", "7", "--format", "json", "--", "true")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "failed to schedule any tasks") ||
		!strings.Contains(r.stderr, `machine "7" not found`) {
		t.Errorf("exec on an unknown machine: want exit 0, empty stdout, the reason on stderr: %s", r)
	}
	// A malformed id and --unit with --machine are usage errors.
	if r := e.troupe(commandTimeout, "exec", "--machine", "hello/0", "--", "true"); r.code != 2 || !strings.Contains(r.stderr, "invalid machine id") {
		t.Errorf("exec --machine hello/0: %s", r)
	}
	if r := e.troupe(commandTimeout, "exec", "--machine", "0", "--unit", "hello/0", "--", "true"); r.code != 2 || !strings.Contains(r.stderr, "cannot be combined") {
		t.Errorf("exec --machine 0 --unit hello/0: %s", r)
	}
}
