package uniter

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"unicode/utf8"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/outbox"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// Task statuses the uniter reports (see internal/entity).
const (
	taskRunning   = "running"
	taskCompleted = "completed"
	taskFailed    = "failed"
)

// RunAction implements resolver.Callbacks: it marks the task running on
// the controller, runs dispatch (or actions/<name>) in the charm dir with
// the action environment (§2.1, §3.2), and records the outcome: results
// (action-set values plus return-code, stdout, stderr), status and
// message. action-log messages reach the controller as they are logged.
// The executor holds the machine lock around the call.
func (u *Uniter) RunAction(ctx context.Context, id string) error {
	t, err := u.cfg.API.BeginAction(ctx, &apipb.UnitTaskRequest{Unit: u.cfg.Unit, Id: id})
	if err != nil {
		return fmt.Errorf("cannot start action %s: %w", id, err)
	}
	if t.Status != taskRunning {
		u.cfg.Logger.Info("action not run", "unit", u.cfg.Unit, "task", id, "status", t.Status)
		return nil
	}
	params, err := decodeParams(t.ParamsJson)
	if err != nil {
		return u.finishAction(ctx, id, taskFailed, fmt.Sprintf("cannot decode params: %v", err), nil)
	}
	if t.Action == execAction {
		return u.runExec(ctx, id, params)
	}
	// The executor only knows the id; Juju's status names the action.
	if err := u.SetAgentStatus(ctx, resolver.StatusExecuting, "running action "+t.Action, nil); err != nil {
		return fmt.Errorf("cannot report action %s: %w", id, err)
	}
	handler, err := charm.FindActionHandler(u.charmDir(), t.Action)
	if errors.Is(err, charm.ErrNoHandler) {
		return u.finishAction(ctx, id, taskFailed,
			fmt.Sprintf("action %q not implemented on unit %q: the charm has neither dispatch nor actions/%s", t.Action, u.cfg.Unit, t.Action), nil)
	}
	if err != nil {
		return u.finishAction(ctx, id, taskFailed, fmt.Sprintf("cannot run action %q: %v", t.Action, err), nil)
	}

	idb := make([]byte, 16)
	rand.Read(idb)
	contextID := u.cfg.Unit + "-" + t.Action + "-" + hex.EncodeToString(idb)
	run := &actionRun{u: u, id: id, params: params, results: map[string]any{}}
	hs := hookcmds.NewHookState(hookcmds.HookStateConfig{Backend: &actionBackend{backend: &backend{
		u: u, snap: u.snap, log: u.cfg.Logger,
		info: hookcmds.HookInfo{UnitName: u.cfg.Unit, ModelUUID: u.snap.ModelUuid, RelationID: -1, ActionName: t.Action},
	}, run: run}})
	end := u.server.Begin(contextID, hs)
	defer end()

	cmd := exec.CommandContext(ctx, handler.Path)
	cmd.Dir = u.charmDir()
	cmd.Env = actionEnv(u.env("", contextID, hook.Info{}), t.Action, id)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := u.runInGroup(cmd)
	if ctx.Err() != nil {
		return fmt.Errorf("action %s: %w", id, resolver.ErrTerminated)
	}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return u.finishAction(ctx, id, taskFailed, fmt.Sprintf("cannot run action %q: %v", t.Action, runErr), nil)
	}
	out := actionOutcome{
		Err: runErr, Stdout: stdout.Bytes(), Stderr: stderr.Bytes(),
		Results: run.results, Failed: run.failed, FailMessage: run.failMessage,
	}
	if exitErr != nil {
		out.ReturnCode = exitErr.ExitCode()
	}
	status, msg, results := out.decide()
	u.cfg.Logger.Info("action finished", "unit", u.cfg.Unit, "task", id, "action", t.Action, "status", status)
	return u.finishAction(ctx, id, status, msg, results)
}

// execAction is the reserved action name of `troupe exec` tasks (the
// controller's apiserver.ExecAction).
const execAction = "juju-exec"

// runExec runs a `troupe exec` command line with /bin/sh in the unit's
// hook context (hook tools on PATH, JUJU_HOOK_NAME empty, no
// JUJU_DISPATCH_PATH, no action tools). As Juju, the task is completed
// whatever the command's exit code; the code is in return-code.
func (u *Uniter) runExec(ctx context.Context, id string, params map[string]any) error {
	command, _ := params["command"].(string)
	idb := make([]byte, 16)
	rand.Read(idb)
	contextID := u.cfg.Unit + "-run-commands-" + hex.EncodeToString(idb)
	hs := hookcmds.NewHookState(hookcmds.HookStateConfig{Backend: &backend{
		u: u, snap: u.snap, log: u.cfg.Logger,
		info: hookcmds.HookInfo{UnitName: u.cfg.Unit, ModelUUID: u.snap.ModelUuid, RelationID: -1},
	}})
	end := u.server.Begin(contextID, hs)
	defer end()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Dir = u.charmDir()
	cmd.Env = execEnv(u.env("", contextID, hook.Info{}))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := u.runInGroup(cmd)
	if ctx.Err() != nil {
		return fmt.Errorf("exec %s: %w", id, resolver.ErrTerminated)
	}
	out := actionOutcome{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(runErr, &exitErr):
		out.ReturnCode = exitErr.ExitCode()
	case runErr != nil:
		return u.finishAction(ctx, id, taskFailed, fmt.Sprintf("cannot run command: %v", runErr), nil)
	}
	_, _, results := out.decide()
	u.cfg.Logger.Info("exec finished", "unit", u.cfg.Unit, "task", id, "return-code", out.ReturnCode)
	return u.finishAction(ctx, id, taskCompleted, "", results)
}

// execEnv turns a hook environment into a `troupe exec` one.
func execEnv(hookEnv []string) []string {
	out := make([]string, 0, len(hookEnv))
	for _, kv := range hookEnv {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "JUJU_DISPATCH_PATH":
		case "JUJU_HOOK_NAME":
			out = append(out, "JUJU_HOOK_NAME=")
		default:
			out = append(out, kv)
		}
	}
	return out
}

// FailAction implements resolver.Callbacks.
func (u *Uniter) FailAction(ctx context.Context, id, message string) error {
	return u.finishAction(ctx, id, taskFailed, message, nil)
}

// finishAction queues the task's outcome in the outbox (reports.go) and
// delivers it when the controller answers: an action that finished while
// the link was down reports its result, once, when the link returns,
// also after an agent restart, and is never run again.
func (u *Uniter) finishAction(ctx context.Context, id, status, message string, results map[string]any) error {
	r := &outbox.ActionResult{ID: id, Status: status, Message: message}
	if len(results) > 0 {
		data, err := json.Marshal(results)
		if err != nil {
			return fmt.Errorf("cannot encode results of action %s: %w", id, err)
		}
		r.Results = data
	}
	if err := u.reportNow(outbox.Entry{Hook: "action-result", Action: r}); err != nil {
		return fmt.Errorf("cannot record the result of action %s: %w", id, err)
	}
	return nil
}

// actionEnv turns a hook environment into an action's: JUJU_HOOK_NAME is
// empty, JUJU_DISPATCH_PATH is actions/<name>, and the JUJU_ACTION_*
// variables name the task.
func actionEnv(hookEnv []string, name, id string) []string {
	set := map[string]string{
		"JUJU_HOOK_NAME": "", "JUJU_DISPATCH_PATH": "actions/" + name,
		"JUJU_ACTION_NAME": name, "JUJU_ACTION_UUID": id, "JUJU_ACTION_TAG": "action-" + id,
	}
	out := make([]string, 0, len(hookEnv)+len(set))
	for _, kv := range hookEnv {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}

// actionOutcome is what an action process left behind.
type actionOutcome struct {
	Err            error // the process's error (an *exec.ExitError), nil on exit 0
	ReturnCode     int
	Stdout, Stderr []byte
	Results        map[string]any // action-set values
	Failed         bool           // action-fail was called
	FailMessage    string
}

// decide is Juju's rule for an action's result: a non-zero exit or an
// action-fail call makes it failed (message: the action-fail text, else
// the exit status); the results are the action-set values plus
// return-code and, when not empty, stdout and stderr (base64 with
// <name>-encoding when not UTF-8).
func (o actionOutcome) decide() (status, message string, results map[string]any) {
	results = map[string]any{}
	for k, v := range o.Results {
		results[k] = v
	}
	results["return-code"] = o.ReturnCode
	for _, s := range []struct {
		key  string
		data []byte
	}{{"stdout", o.Stdout}, {"stderr", o.Stderr}} {
		if len(s.data) == 0 {
			continue
		}
		if utf8.Valid(s.data) {
			results[s.key] = string(s.data)
		} else {
			results[s.key] = base64.StdEncoding.EncodeToString(s.data)
			results[s.key+"-encoding"] = "base64"
		}
	}
	switch {
	case o.Failed:
		return taskFailed, o.FailMessage, results
	case o.Err != nil:
		return taskFailed, o.Err.Error(), results
	}
	return taskCompleted, "", results
}

// decodeParams decodes params JSON keeping integers as int64, so that
// action-get prints 3 rather than 3.0 in every format.
func decodeParams(data []byte) (map[string]any, error) {
	out := map[string]any{}
	if len(data) == 0 {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return fixNumbers(out).(map[string]any), nil
}

func fixNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, item := range v {
			v[k] = fixNumbers(item)
		}
	case []any:
		for i, item := range v {
			v[i] = fixNumbers(item)
		}
	}
	return v
}

// actionBackend is a hook backend whose action tools work: the hook
// backend's ActionContext methods (which report ErrNotAction) are
// shadowed by the running action's.
type actionBackend struct {
	*backend
	run *actionRun
}

var _ hookcmds.Backend = (*actionBackend)(nil)

func (b *actionBackend) ActionParams() (map[string]any, error) { return b.run.params, nil }

func (b *actionBackend) UpdateActionResults(r map[string]any) error {
	b.run.updateResults(r)
	return nil
}

func (b *actionBackend) LogActionMessage(msg string) error { return b.run.log(msg) }

func (b *actionBackend) SetActionFailed(msg string) error {
	b.run.failed, b.run.failMessage = true, msg
	return nil
}

// actionRun is the running action's side of the hook tools. Used from the
// hook tool server's goroutine only while the action runs; RunAction reads
// it after the process exited.
type actionRun struct {
	u           *Uniter
	id          string
	params      map[string]any
	results     map[string]any
	failed      bool
	failMessage string
}

func (a *actionRun) updateResults(r map[string]any) {
	mergeResults(a.results, r)
}

// mergeResults deep-merges src into dst: nested maps merge, other values
// replace.
func mergeResults(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeResults(dm, sm)
				continue
			}
			cp := map[string]any{}
			mergeResults(cp, sm)
			dst[k] = cp
			continue
		}
		dst[k] = v
	}
}

// log is action-log: queued in the outbox, in order with the result.
func (a *actionRun) log(msg string) error {
	if err := a.u.report(outbox.Entry{Hook: "action-log", ActionLog: &outbox.ActionLog{ID: a.id, Message: msg}}); err != nil {
		return fmt.Errorf("cannot record action log message: %w", err)
	}
	return nil
}
