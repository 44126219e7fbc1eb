package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// taskJSON mirrors the task document of `run --format json` (§5.4).
type taskJSON struct {
	ID      string         `json:"id"`
	Status  string         `json:"status"`
	Unit    string         `json:"unit"`
	Message string         `json:"message"`
	Results map[string]any `json:"results"`
	Log     []string       `json:"log"`
	Timing  map[string]any `json:"timing"`
}

// runJSON parses `run --format json` stdout: {receiver: task}, one entry.
func runJSON(t *testing.T, r result) (string, taskJSON) {
	t.Helper()
	var doc map[string]taskJSON
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("run stdout is not one JSON document: %v\n%s", err, r)
	}
	if len(doc) != 1 {
		t.Fatalf("run stdout must hold one receiver, got %d:\n%s", len(doc), r)
	}
	for k, v := range doc {
		return k, v
	}
	return "", taskJSON{}
}

// TestActions (issue 6 AC4): an action with valid params returns its
// results (nested action-set keys, return-code, stdout) with defaults
// filled; invalid params are refused before anything runs; action-fail
// reports `failed` with its message (exit 0, as Juju); a crashing action
// is `failed` with its return code and stderr and the CLI exits non-zero
// with "task failed"; show-task and operations show the same tasks; an
// action runs while the unit's hook is in error.
func TestActions(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/actioner")
	waitFor(t, e, readyTimeout, "actioner/0 active and idle", func(doc statusDoc) bool {
		u, ok := doc.Applications["actioner"].Units["actioner/0"]
		return ok && u.WorkloadStatus.Current == "active" && u.JujuStatus.Current == "idle"
	})
	var unitDir string
	for _, p := range findFiles(t, e.home, "hook-ledger") {
		if strings.Contains(p, "unit-actioner-0") {
			unitDir = filepath.Dir(p)
		}
	}
	if unitDir == "" {
		t.Fatalf("no hook ledger for actioner/0 under %s", e.home)
	}
	actionLedger := func() []string {
		data, err := os.ReadFile(filepath.Join(unitDir, "action-ledger"))
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(data)), "\n")
	}

	// A valid action, addressed through the leader, with a default filled.
	r := e.troupe(commandTimeout, "run", "--format", "json", "actioner/leader", "greet", "name=troupe", "--wait", "60s")
	if r.err != nil || r.code != 0 {
		t.Fatalf("greet failed: %s", r)
	}
	if !strings.Contains(r.stderr, "Running operation") {
		t.Errorf("run must report the operation on stderr: %s", r)
	}
	recv, greet := runJSON(t, r)
	if recv != "actioner/0" || greet.Unit != "actioner/0" {
		t.Errorf("receiver %q / unit %q, want actioner/0 (app/leader resolved)", recv, greet.Unit)
	}
	if greet.Status != "completed" || greet.ID == "" {
		t.Errorf("greet: status %q id %q, want completed with an id", greet.Status, greet.ID)
	}
	var params map[string]any
	if s, _ := greet.Results["params"].(string); json.Unmarshal([]byte(s), &params) != nil {
		t.Errorf("greet results.params is not action-get's JSON: %v", greet.Results["params"])
	}
	delete(greet.Results, "params")
	want := map[string]any{
		"greeting":    map[string]any{"text": "hello troupe", "count": "1"},
		"env":         map[string]any{"dispatch-path": "actions/greet", "action-name": "greet", "action-tag": "action-" + greet.ID, "hook-name": ""},
		"return-code": float64(0),
		"stdout":      "said hello to troupe\n",
	}
	if !reflect.DeepEqual(greet.Results, want) {
		t.Errorf("greet results:\n got %#v\nwant %#v", greet.Results, want)
	}
	if !reflect.DeepEqual(params, map[string]any{"name": "troupe", "count": float64(1)}) {
		t.Errorf("action-get must see the given params plus defaults, got %v", params)
	}
	if len(greet.Log) != 1 || !strings.HasSuffix(greet.Log[0], " greeting troupe") {
		t.Errorf("greet log: %q", greet.Log)
	}
	if _, err := time.Parse("2006-01-02 15:04:05 -0700 MST", strings.Join(strings.Fields(greet.Log[0])[:4], " ")); err != nil {
		t.Errorf("log line must start with Juju's timestamp: %q: %v", greet.Log[0], err)
	}
	for _, k := range []string{"enqueued", "started", "completed"} {
		if greet.Timing[k] == nil {
			t.Errorf("greet timing lacks %q: %v", k, greet.Timing)
		}
	}
	if got := actionLedger(); !reflect.DeepEqual(got, []string{"greet " + greet.ID}) {
		t.Errorf("action ledger after greet: %q", got)
	}

	// --params FILE (a YAML mapping, as jubilant writes it); key=value
	// arguments override it.
	paramsFile := filepath.Join(t.TempDir(), "params.yaml")
	if err := os.WriteFile(paramsFile, []byte("name: from-file\ncount: 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = e.troupe(commandTimeout, "run", "--format", "json", "actioner/0", "greet", "--params", paramsFile, "count=2")
	if r.err != nil || r.code != 0 {
		t.Fatalf("greet --params: %s", r)
	}
	if _, g := runJSON(t, r); !reflect.DeepEqual(g.Results["greeting"], map[string]any{"text": "hello from-file", "count": "2"}) {
		t.Errorf("greet --params: results %v", g.Results)
	}

	// Invalid params are refused before anything is enqueued or run.
	ops := func() map[string]any {
		var doc map[string]any
		r := e.mustTroupe(commandTimeout, "operations", "--format", "json")
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("operations --format json: %v\n%s", err, r)
		}
		return doc
	}
	before := len(ops())
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"colour=red"}, `"colour" is not declared`},
		{[]string{"count=many"}, `"count": expected integer`},
		{[]string{"count=0"}, `"count": 0 is below the minimum`},
	} {
		args := append([]string{"run", "actioner/0", "greet"}, bad.args...)
		r := e.troupe(commandTimeout, args...)
		if r.code == 0 || !strings.Contains(r.stderr, bad.want) || r.stdout != "" {
			t.Errorf("%v must be refused with %q on stderr and nothing on stdout: %s", bad.args, bad.want, r)
		}
	}
	if n := len(ops()); n != before {
		t.Errorf("refused runs must enqueue nothing: %d operations before, %d after", before, n)
	}
	if got := actionLedger(); len(got) != 2 {
		t.Errorf("refused runs must not run anything; action ledger: %q", got)
	}
	// An undefined action or unknown unit: nothing scheduled, exit 0, empty
	// stdout, the reason on stderr (Juju 3.6).
	for _, args := range [][]string{{"actioner/0", "dance"}, {"actioner/7", "greet"}} {
		r := e.troupe(commandTimeout, append([]string{"run", "--format", "json"}, args...)...)
		if r.code != 0 || strings.TrimSpace(r.stdout) != "" || !strings.Contains(r.stderr, "not found") {
			t.Errorf("run %v: want exit 0, empty stdout, a not-found reason on stderr: %s", args, r)
		}
	}

	// action-fail: status failed with the message, return code 0, exit 0.
	r = e.troupe(commandTimeout, "run", "actioner/0", "fail", "reason=on purpose", "--format", "json")
	if r.err != nil || r.code != 0 {
		t.Fatalf("run fail must exit 0 (action-fail with return code 0): %s", r)
	}
	_, failed := runJSON(t, r)
	if failed.Status != "failed" || failed.Message != "on purpose" || failed.Results["return-code"] != float64(0) {
		t.Errorf("fail: %+v, want status failed, message %q, return-code 0", failed, "on purpose")
	}

	// A crashing action: failed, return code 3, stderr kept, exit != 0
	// with "task failed" and the task document still on stdout.
	r = e.troupe(commandTimeout, "run", "actioner/0", "crash", "--format", "json")
	if r.code == 0 || !strings.Contains(r.stderr, "task failed") {
		t.Errorf("run crash must exit non-zero with \"task failed\": %s", r)
	}
	_, crash := runJSON(t, r)
	if crash.Status != "failed" || crash.Results["return-code"] != float64(3) || crash.Results["stderr"] != "boom\n" ||
		crash.Message != "exit status 3" {
		t.Errorf("crash: %+v", crash)
	}

	// show-task shows the same task as run printed.
	r = e.mustTroupe(commandTimeout, "show-task", greet.ID, "--format", "json")
	var shown taskJSON
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
		t.Fatalf("show-task --format json: %v\n%s", err, r)
	}
	greet.Results["params"] = shown.Results["params"]
	if shown.ID != greet.ID || shown.Status != greet.Status || !reflect.DeepEqual(shown.Results, greet.Results) ||
		!reflect.DeepEqual(shown.Log, greet.Log) {
		t.Errorf("show-task %s differs from run's task:\n show %+v\n run  %+v", greet.ID, shown, greet)
	}
	// operations lists the four operations run, each with its task.
	all := ops()
	if len(all) != 4 {
		t.Errorf("operations: want 4 operations, got %d: %v", len(all), all)
	}
	statuses := map[string]string{}
	delete(all, "3") // the --params run
	for _, op := range all {
		m := op.(map[string]any)
		for id, task := range m["tasks"].(map[string]any) {
			statuses[id] = task.(map[string]any)["status"].(string)
		}
	}
	if want := map[string]string{greet.ID: "completed", failed.ID: "failed", crash.ID: "failed"}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("operations tasks: got %v, want %v", statuses, want)
	}
	if r := e.mustTroupe(commandTimeout, "operations"); !strings.Contains(r.stdout, "greet run on unit-actioner-0") {
		t.Errorf("operations table lacks the greet summary:\n%s", r.stdout)
	}

	// --wait that cannot be met times out, and the task still completes.
	r = e.troupe(commandTimeout, "run", "actioner/0", "greet", "--wait", "0.001s", "--format", "json")
	if r.code == 0 || !strings.Contains(r.stderr, "timed out") {
		t.Errorf("--wait 0.001s must time out: %s", r)
	}

	// exec runs a shell line in the unit's hook context; its task is
	// completed whatever the exit code, which is in return-code.
	r = e.troupe(commandTimeout, "exec", "--unit", "actioner/0", "--format", "json", "--", "echo", "bar", "baz")
	if r.err != nil || r.code != 0 {
		t.Fatalf("exec echo: %s", r)
	}
	if _, x := runJSON(t, r); x.Status != "completed" || x.Results["stdout"] != "bar baz\n" || x.Results["return-code"] != float64(0) {
		t.Errorf("exec echo bar baz: %+v", x)
	}
	r = e.troupe(commandTimeout, "exec", "--unit", "actioner/leader", "--format", "json", "--",
		`config-get broken; echo "hook=[$JUJU_HOOK_NAME] dispatch=[${JUJU_DISPATCH_PATH-unset}]"`)
	if r.err != nil || r.code != 0 {
		t.Fatalf("exec with hook tools: %s", r)
	}
	if _, x := runJSON(t, r); x.Results["stdout"] != "False\nhook=[] dispatch=[unset]\n" {
		t.Errorf("exec must run in a hook context (hook tools on PATH, empty JUJU_HOOK_NAME, no JUJU_DISPATCH_PATH): %+v", x)
	}
	r = e.troupe(commandTimeout, "exec", "--unit", "actioner/0", "--format", "json", "--", "sleep", "x")
	if r.code == 0 || !strings.Contains(r.stderr, "task failed") {
		t.Errorf("a failing exec must exit non-zero with \"task failed\": %s", r)
	}
	if _, x := runJSON(t, r); x.Status != "completed" || x.Results["return-code"] != float64(1) || x.Results["stderr"] == nil {
		t.Errorf("exec sleep x: want completed, return-code 1, stderr: %+v", x)
	}
	if r := e.troupe(commandTimeout, "exec", "--unit", "actioner/9", "--format", "json", "--", "true"); r.code != 0 || r.stdout != "" {
		t.Errorf("exec on an unknown unit: want exit 0 and empty stdout: %s", r)
	}

	// A queued task can be cancelled (it never runs); a running one cannot.
	taskID := func(r result) string {
		for _, l := range strings.Split(r.stdout, "\n") {
			if f := strings.Fields(l); len(f) == 5 && f[0] == "-" && f[1] == "task" {
				return f[2]
			}
		}
		t.Fatalf("no task id in --background output: %s", r)
		return ""
	}
	slowID := taskID(e.mustTroupe(commandTimeout, "run", "actioner/0", "slow", "seconds=4", "--background"))
	queuedID := taskID(e.mustTroupe(commandTimeout, "run", "actioner/0", "greet", "name=never", "--background"))
	if r := e.mustTroupe(commandTimeout, "cancel-task", queuedID); !strings.Contains(r.stdout, "cancelled") {
		t.Errorf("cancel-task %s: %s", queuedID, r)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := e.mustTroupe(commandTimeout, "show-task", slowID, "--format", "json")
		if strings.Contains(r.stdout, `"status":"running"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slow task %s never started: %s", slowID, r)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := e.troupe(commandTimeout, "cancel-task", slowID); r.code == 0 || !strings.Contains(r.stderr, "cannot be cancelled") {
		t.Errorf("cancelling a running task must fail: %s", r)
	}
	r = e.mustTroupe(commandTimeout, "show-task", slowID, "--wait", "30s", "--format", "json")
	if !strings.Contains(r.stdout, `"status":"completed"`) || !strings.Contains(r.stdout, `"slept":"4"`) {
		t.Errorf("slow task after waiting: %s", r)
	}
	r = e.mustTroupe(commandTimeout, "show-task", queuedID, "--format", "json")
	if !strings.Contains(r.stdout, `"status":"cancelled"`) {
		t.Errorf("cancelled task: %s", r)
	}
	for _, l := range actionLedger() {
		if l == "greet "+queuedID {
			t.Errorf("cancelled task %s ran; action ledger: %q", queuedID, actionLedger())
		}
	}

	// An action runs while the unit's hook is in error.
	e.mustTroupe(commandTimeout, "config", "actioner", "broken=true")
	waitFor(t, e, 60*time.Second, "actioner/0 in config-changed error", func(doc statusDoc) bool {
		u := doc.Applications["actioner"].Units["actioner/0"]
		return u.WorkloadStatus.Current == "error" && u.WorkloadStatus.Message == `hook failed: "config-changed"`
	})
	r = e.troupe(commandTimeout, "run", "actioner/0", "greet", "--format", "json")
	if r.err != nil || r.code != 0 {
		t.Fatalf("greet in hook error: %s", r)
	}
	if _, g := runJSON(t, r); g.Status != "completed" {
		t.Errorf("greet in hook error: status %q, want completed", g.Status)
	}
	waitFor(t, e, 30*time.Second, "actioner/0 still in error after the action", func(doc statusDoc) bool {
		u := doc.Applications["actioner"].Units["actioner/0"]
		return u.WorkloadStatus.Current == "error" && u.WorkloadStatus.Message == `hook failed: "config-changed"`
	})
}

// TestActionInterruptedByAgentKill SIGKILLs the machine agent while an
// action runs: after the restart the task is failed (never re-run, as
// Juju), and the unit runs the next action normally.
func TestActionInterruptedByAgentKill(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/actioner")
	doc := waitFor(t, e, readyTimeout, "actioner/0 active and idle", func(doc statusDoc) bool {
		u, ok := doc.Applications["actioner"].Units["actioner/0"]
		return ok && u.WorkloadStatus.Current == "active" && u.JujuStatus.Current == "idle"
	})
	dirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*-machine-"+doc.Applications["actioner"].Units["actioner/0"].Machine))
	if len(dirs) != 1 {
		t.Fatalf("machine dir of actioner/0: %v", dirs)
	}
	pidOf := func() int { return agentPID(dirs[0]) }

	r := e.mustTroupe(commandTimeout, "run", "actioner/0", "slow", "seconds=120", "--background")
	var id string
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 5 && f[1] == "task" {
			id = f[2]
		}
	}
	show := func() taskJSON {
		var tj taskJSON
		r := e.mustTroupe(commandTimeout, "show-task", id, "--format", "json")
		if err := json.Unmarshal([]byte(r.stdout), &tj); err != nil {
			t.Fatalf("show-task: %v\n%s", err, r)
		}
		return tj
	}
	deadline := time.Now().Add(30 * time.Second)
	for show().Status != "running" {
		if time.Now().After(deadline) {
			t.Fatalf("task %s never started: %+v", id, show())
		}
		time.Sleep(200 * time.Millisecond)
	}
	old := pidOf()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatalf("cannot kill machine agent %d: %v", old, err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		tj := show()
		if tj.Status == "failed" {
			if tj.Message != "action interrupted by an agent restart" {
				t.Errorf("interrupted task message %q", tj.Message)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s not failed within 60s of the agent's SIGKILL: %+v", id, tj)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if pid := pidOf(); pid == old {
		t.Errorf("the machine agent was not restarted (pid %d)", pid)
	}
	// The interrupted action's processes (its script and the `sleep 120`
	// it runs) die with it: the restarted agent kills the recorded process
	// group, so no orphan keeps running beside the next hooks.
	orphans := func() []int {
		var out []int
		for _, pid := range processesMentioning(e.home, true) {
			if cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline")); err == nil &&
				bytes.HasPrefix(cmdline, []byte("sleep\x00120\x00")) {
				out = append(out, pid)
			}
		}
		return out
	}
	orphanDeadline := time.Now().Add(20 * time.Second)
	for len(orphans()) > 0 && time.Now().Before(orphanDeadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if left := orphans(); len(left) > 0 {
		t.Errorf("the interrupted action's sleep still runs after the agent restarted: pids %v", left)
	}
	r = e.troupe(commandTimeout, "run", "actioner/0", "greet", "--format", "json")
	if r.code != 0 {
		t.Fatalf("greet after the restart: %s", r)
	}
	if _, g := runJSON(t, r); g.Status != "completed" {
		t.Errorf("greet after the restart: %+v", g)
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}
