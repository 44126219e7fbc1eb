// Package machineexec is the machine agent's runner of `troupe exec
// --machine` tasks: it watches the machine's pending juju-exec tasks and
// runs each command line with /bin/sh -c in its own process group, under
// the machine lock (as Juju's machine exec), then finishes the task with
// return-code, stdout and stderr. As for unit execs, a task is completed
// whatever the command's exit code.
package machineexec

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"syscall"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/machinelock"
)

// ExecAction is the reserved action name of exec tasks (the controller's
// apiserver.ExecAction).
const ExecAction = "juju-exec"

// API is what the runner needs from the controller. Every call is made
// as the machine's agent, for Machine only.
type API interface {
	WatchMachineTasks(ctx context.Context, in *apipb.WatchMachineRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[apipb.Changed], error)
	MachineTasks(ctx context.Context, in *apipb.MachineTasksRequest, opts ...grpc.CallOption) (*apipb.MachineTasksResult, error)
	BeginMachineTask(ctx context.Context, in *apipb.MachineTaskRequest, opts ...grpc.CallOption) (*apipb.TaskInfo, error)
	FinishMachineTask(ctx context.Context, in *apipb.FinishMachineTaskRequest, opts ...grpc.CallOption) (*apipb.FinishActionResult, error)
}

// Config configures Run.
type Config struct {
	API     API
	Machine string
	Lock    *machinelock.Lock
	Dir     string // the commands' working directory
	Logger  *slog.Logger
}

// Run runs the machine's exec tasks, oldest first, one at a time, until
// ctx is done or the watch fails.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	stream, err := cfg.API.WatchMachineTasks(ctx, &apipb.WatchMachineRequest{Machine: cfg.Machine})
	if err != nil {
		return fmt.Errorf("cannot watch the tasks of machine %s: %w", cfg.Machine, err)
	}
	for {
		if _, err := stream.Recv(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("machine %s task watch stopped: %w", cfg.Machine, err)
		}
		res, err := cfg.API.MachineTasks(ctx, &apipb.MachineTasksRequest{Machine: cfg.Machine})
		if err != nil {
			return fmt.Errorf("cannot list the tasks of machine %s: %w", cfg.Machine, err)
		}
		for _, id := range res.Ids {
			if err := runTask(ctx, cfg, id); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
}

func runTask(ctx context.Context, cfg Config, id string) error {
	release, err := cfg.Lock.Acquire(ctx, "machine-"+cfg.Machine, "exec task "+id)
	if err != nil {
		return fmt.Errorf("cannot take the machine lock for task %s: %w", id, err)
	}
	defer release()
	t, err := cfg.API.BeginMachineTask(ctx, &apipb.MachineTaskRequest{Machine: cfg.Machine, Id: id})
	if err != nil {
		return fmt.Errorf("cannot start task %s: %w", id, err)
	}
	if t.Status != "running" {
		cfg.Logger.Info("task not run", "machine", cfg.Machine, "task", id, "status", t.Status)
		return nil
	}
	if t.Action != ExecAction {
		return finish(ctx, cfg, id, "failed", fmt.Sprintf("machine %s can only run exec tasks, not action %q", cfg.Machine, t.Action), nil)
	}
	var params struct {
		Command string `json:"command"`
	}
	if err := json.Unmarshal(t.ParamsJson, &params); err != nil {
		return finish(ctx, cfg, id, "failed", fmt.Sprintf("cannot decode params: %v", err), nil)
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", params.Command)
	cmd.Dir = cfg.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		// The agent is stopping and killed the command: record that rather
		// than leave the task running for ever.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := finish(fctx, cfg, id, "failed", "the machine agent stopped while the command ran; run it again", nil); err != nil {
			cfg.Logger.Warn("cannot record an interrupted exec", "machine", cfg.Machine, "task", id, "err", err)
		}
		return ctx.Err()
	}
	code := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(runErr, &exitErr):
		code = exitErr.ExitCode()
	case runErr != nil:
		return finish(ctx, cfg, id, "failed", fmt.Sprintf("cannot run command: %v", runErr), nil)
	}
	cfg.Logger.Info("exec finished", "machine", cfg.Machine, "task", id, "return-code", code)
	return finish(ctx, cfg, id, "completed", "", Results(code, stdout.Bytes(), stderr.Bytes()))
}

func finish(ctx context.Context, cfg Config, id, status, message string, results map[string]any) error {
	req := &apipb.FinishMachineTaskRequest{Machine: cfg.Machine, Id: id, Status: status, Message: message}
	if len(results) > 0 {
		data, err := json.Marshal(results)
		if err != nil {
			return fmt.Errorf("cannot encode results of task %s: %w", id, err)
		}
		req.ResultsJson = data
	}
	if _, err := cfg.API.FinishMachineTask(ctx, req); err != nil {
		return fmt.Errorf("cannot record the result of task %s: %w", id, err)
	}
	return nil
}

// Results is Juju's results map of an exec: return-code always, stdout
// and stderr when not empty (base64, with <name>-encoding, when not
// UTF-8).
func Results(code int, stdout, stderr []byte) map[string]any {
	out := map[string]any{"return-code": code}
	for _, s := range []struct {
		key  string
		data []byte
	}{{"stdout", stdout}, {"stderr", stderr}} {
		switch {
		case len(s.data) == 0:
		case utf8.Valid(s.data):
			out[s.key] = string(s.data)
		default:
			out[s.key] = base64.StdEncoding.EncodeToString(s.data)
			out[s.key+"-encoding"] = "base64"
		}
	}
	return out
}
