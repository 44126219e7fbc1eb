package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gopkg.in/yaml.v3"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/taskdoc"
)

// defaultRunWait is how long `run` waits for results without --wait
// (Juju's default).
const defaultRunWait = 60 * time.Second

// runRun runs an action, as `juju run`: `run <unit>|<app>/leader
// [<unit>...] <action> [key=value...] [--params file.yaml] [--wait 2m]
// [--background] [--format plain|json|yaml] [--string-args]`.
//
// Chatter ("Running operation 1 with 1 task", "Waiting for task 2...")
// goes to stderr; stdout holds only the result document. Exit codes
// (cli-contract §3.4): an unknown unit or action prints why on stderr and
// exits 0 with empty stdout (Juju 3.6); invalid params are an error; a
// task with a non-zero return code prints its document and then fails
// with "the following task failed"; the wait deadline fails with "timed
// out waiting for results from: ..." while the task keeps running.
func runRun(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("run")
	fs.SetArgs("<unit>|<application>/leader [<unit>...] <action> [key=value...]")
	format := fs.String("", "format", "plain", "output format: plain|json|yaml")
	wait := fs.Duration("", "wait", defaultRunWait, "how long to wait for results (0: no limit)")
	background := fs.Bool("", "background", false, "enqueue the action and print its operation and task ids without waiting")
	paramsFile := fs.String("", "params", "", "YAML file of action parameters (key=value arguments override it)")
	stringArgs := fs.Bool("", "string-args", false, "keep key=value values as strings instead of parsing them as YAML")
	model := fs.String("m", "model", "", "model of the units")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	receivers, action, kvs, err := splitRunArgs(rest)
	if err != nil {
		return usage(err)
	}
	if err := checkFormat(*format, "plain", "json", "yaml"); err != nil {
		return err
	}
	var file []byte
	if *paramsFile != "" {
		if file, err = os.ReadFile(*paramsFile); err != nil {
			return fmt.Errorf("cannot read --params file: %w", err)
		}
	}
	params, err := actionParams(file, kvs, *stringArgs)
	if err != nil {
		return usage(err)
	}
	paramsJSON, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("cannot encode params: %w (use string keys and plain values)", err)
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	res, err := conn.EnqueueAction(ctx, &apipb.EnqueueActionRequest{Model: m, Receivers: receivers, Action: action, ParamsJson: paramsJSON})
	cancel()
	if status.Code(err) == codes.NotFound {
		// Juju 3.6: nothing scheduled is reported, not failed.
		fmt.Fprintf(env.Stderr, "Operation failed to schedule any tasks:\n%s\n", status.Convert(err).Message())
		return nil
	}
	if err != nil {
		return apiError(err)
	}
	if *background {
		fmt.Fprintf(env.Stdout, "Scheduled operation %s with %s\n", res.OperationId, taskWord(len(res.Tasks)))
		for _, t := range res.Tasks {
			fmt.Fprintf(env.Stdout, "  - task %s on %s\n", t.Id, unitTag(t.Unit))
		}
		fmt.Fprintf(env.Stdout, "Check operation status with `troupe show-operation %s`\n", res.OperationId)
		fmt.Fprintf(env.Stdout, "Check task status with `troupe show-task <id>`\n")
		return nil
	}
	return awaitTasks(env, conn, m, res, *wait, *format)
}

// awaitTasks reports the enqueued operation on stderr, waits for every
// task (wait 0: no limit), prints them in format and fails when one
// failed (§3.4).
func awaitTasks(env *Env, conn *api.Conn, model string, res *apipb.EnqueueActionResult, wait time.Duration, format string) error {
	fmt.Fprintf(env.Stderr, "Running operation %s with %s\n", res.OperationId, taskWord(len(res.Tasks)))
	for _, t := range res.Tasks {
		fmt.Fprintf(env.Stderr, "  - task %s on %s\n", t.Id, unitTag(t.Unit))
	}
	fmt.Fprintln(env.Stderr)

	waitCtx, cancelWait := context.Background(), context.CancelFunc(func() {})
	if wait > 0 {
		waitCtx, cancelWait = context.WithTimeout(context.Background(), wait)
	}
	defer cancelWait()
	var done []*apipb.TaskInfo
	for _, t := range res.Tasks {
		fmt.Fprintf(env.Stderr, "Waiting for task %s...\n", t.Id)
		final, err := waitTask(waitCtx, conn, model, t.Id, env.Stderr, format == "plain")
		if errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded {
			var pending []string
			for _, p := range res.Tasks[len(done):] {
				pending = append(pending, entity.ReceiverKind(p.Unit)+" "+p.Unit)
			}
			return fmt.Errorf("timed out waiting for results from: %s; the task keeps running: see `troupe show-task %s`",
				strings.Join(pending, ", "), t.Id)
		}
		if err != nil {
			return apiError(err)
		}
		done = append(done, final)
	}
	if err := printTasks(env.Stdout, env.Stderr, format, done); err != nil {
		return err
	}
	if failures := taskdoc.Failures(done); len(failures) > 0 {
		return fmt.Errorf("the following task failed:\n%s\n\nuse `troupe show-task <id>` to inspect the failure", strings.Join(failures, "\n"))
	}
	return nil
}

// unitTag is Juju's tag form of a unit name: unit-hello-0.
func unitTag(unit string) string { return entity.ReceiverTag(unit) }

func taskWord(n int) string {
	if n == 1 {
		return "1 task"
	}
	return fmt.Sprintf("%d tasks", n)
}

func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return usage(fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(allowed, ", ")))
}

// splitRunArgs splits `run` positionals: receivers (names with a "/"),
// the action, then key=value params.
func splitRunArgs(args []string) (receivers []string, action string, kvs []string, err error) {
	i := 0
	for i < len(args) && strings.Contains(args[i], "/") && !strings.Contains(args[i], "=") {
		receivers = append(receivers, args[i])
		i++
	}
	if len(receivers) == 0 {
		return nil, "", nil, errors.New("no unit specified; usage: troupe run <unit>|<application>/leader <action> [key=value...]")
	}
	if i == len(args) || strings.Contains(args[i], "=") {
		return nil, "", nil, errors.New("no action specified; usage: troupe run <unit>|<application>/leader <action> [key=value...]")
	}
	action = args[i]
	for _, kv := range args[i+1:] {
		if !strings.Contains(kv, "=") {
			return nil, "", nil, fmt.Errorf("expected key=value after the action name, got %q", kv)
		}
	}
	return receivers, action, args[i+1:], nil
}

// actionParams builds the params object: the --params YAML mapping, then
// each key=value on top. Dotted keys nest (a.b=c gives {"a": {"b": "c"}});
// values are parsed as YAML (3 is a number, true a boolean) unless
// stringArgs.
func actionParams(file []byte, kvs []string, stringArgs bool) (map[string]any, error) {
	params := map[string]any{}
	if len(strings.TrimSpace(string(file))) > 0 {
		if err := yaml.Unmarshal(file, &params); err != nil {
			return nil, fmt.Errorf("--params file is not a YAML mapping: %v", err)
		}
		if params == nil {
			params = map[string]any{}
		}
	}
	for _, kv := range kvs {
		k, raw, _ := strings.Cut(kv, "=")
		var v any = raw
		if !stringArgs && raw != "" {
			var parsed any
			if err := yaml.Unmarshal([]byte(raw), &parsed); err == nil && parsed != nil {
				v = parsed
			}
		}
		keys := strings.Split(k, ".")
		for _, seg := range keys {
			if seg == "" {
				return nil, fmt.Errorf("invalid parameter key %q: empty segment", k)
			}
		}
		m := params
		for _, seg := range keys[:len(keys)-1] {
			next, ok := m[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[seg] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = v
	}
	return params, nil
}

// waitTask blocks until task id finishes or ctx ends, re-reading it on
// every change the controller notifies. With logs set, new action-log
// messages are printed to w as they arrive.
func waitTask(ctx context.Context, conn *api.Conn, model, id string, w io.Writer, logs bool) (*apipb.TaskInfo, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := conn.WatchTask(ctx, &apipb.GetTaskRequest{Model: model, Id: id})
	if err != nil {
		return nil, err
	}
	printed := 0
	for {
		if _, err := stream.Recv(); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		t, err := conn.GetTask(ctx, &apipb.GetTaskRequest{Model: model, Id: id})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		if logs {
			for ; printed < len(t.Log); printed++ {
				fmt.Fprintf(w, "%s %s\n", taskdoc.FormatTime(t.Log[printed].TimeUnixNano), t.Log[printed].Message)
			}
		}
		if taskdoc.Finished(t.Status) {
			return t, nil
		}
	}
}

// printTasks prints finished tasks: json and yaml as {unit: task}, plain
// as each task's action-set results (YAML) followed by its stdout (and
// its stderr on errw).
func printTasks(w, errw io.Writer, format string, tasks []*apipb.TaskInfo) error {
	switch format {
	case "json", "yaml":
		doc := map[string]any{}
		for _, t := range tasks {
			d, err := taskdoc.Task(t)
			if err != nil {
				return err
			}
			doc[t.Unit] = d
		}
		return encode(w, format, doc)
	}
	for _, t := range tasks {
		results, err := taskdoc.Results(t)
		if err != nil {
			return err
		}
		user := map[string]any{}
		for k, v := range results {
			switch k {
			case "return-code", "stdout", "stderr", "stdout-encoding", "stderr-encoding":
			default:
				user[k] = v
			}
		}
		if len(tasks) > 1 {
			fmt.Fprintf(w, "%s:\n", t.Unit)
		}
		if t.Status != "completed" && t.Message != "" {
			fmt.Fprintf(w, "Action %s on %s %s: %s\n", t.Action, t.Unit, t.Status, t.Message)
		}
		if len(user) > 0 {
			if err := encode(w, "yaml", user); err != nil {
				return err
			}
		}
		if s, ok := results["stdout"].(string); ok && results["stdout-encoding"] == nil {
			fmt.Fprint(w, s)
			if !strings.HasSuffix(s, "\n") {
				fmt.Fprintln(w)
			}
		}
		if s, ok := results["stderr"].(string); ok && results["stderr-encoding"] == nil {
			fmt.Fprint(errw, s)
		}
	}
	return nil
}

func encode(w io.Writer, format string, doc any) error {
	if format == "json" {
		return json.NewEncoder(w).Encode(doc)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}
