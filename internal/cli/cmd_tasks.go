package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/taskdoc"
)

// runShowTask prints one task, as `juju show-task <id>`: the task
// document (§5.4) without the receiver key. With --wait it first waits
// for the task to finish.
func runShowTask(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("show-task")
	fs.SetArgs("<task-id>")
	format := fs.String("", "format", "yaml", "output format: yaml|json")
	wait := fs.Duration("", "wait", 0, "wait up to this long for the task to finish (0: do not wait)")
	model := fs.String("m", "model", "", "model of the task")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("expected one task id; see `troupe operations` for the ids"))
	}
	if err := checkFormat(*format, "yaml", "json"); err != nil {
		return err
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	var t *apipb.TaskInfo
	if *wait > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), *wait)
		defer cancel()
		t, err = waitTask(ctx, conn, m, rest[0], env.Stderr, false)
		if ctx.Err() != nil {
			return fmt.Errorf("timed out waiting for task %s to finish", rest[0])
		}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		t, err = conn.GetTask(ctx, &apipb.GetTaskRequest{Model: m, Id: rest[0]})
	}
	if err != nil {
		return apiError(err)
	}
	doc, err := taskdoc.Task(t)
	if err != nil {
		return err
	}
	return encode(env.Stdout, *format, doc)
}

// runShowOperation prints one operation, as `juju show-operation <id>`.
func runShowOperation(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("show-operation")
	fs.SetArgs("<operation-id>")
	format := fs.String("", "format", "yaml", "output format: yaml|json")
	model := fs.String("m", "model", "", "model of the operation")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("expected one operation id; see `troupe operations` for the ids"))
	}
	if err := checkFormat(*format, "yaml", "json"); err != nil {
		return err
	}
	ops, err := listOperations(env, *model)
	if err != nil {
		return err
	}
	for _, op := range ops {
		if op.Id == rest[0] {
			return encode(env.Stdout, *format, taskdoc.Operation(op))
		}
	}
	return fmt.Errorf("operation %q not found; see `troupe operations`", rest[0])
}

// runOperations lists the model's operations, as `juju operations`.
func runOperations(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("operations")
	format := fs.String("", "format", "tabular", "output format: tabular|json|yaml")
	model := fs.String("m", "model", "", "model to list")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usage(errors.New("operations takes no arguments"))
	}
	if err := checkFormat(*format, "tabular", "json", "yaml"); err != nil {
		return err
	}
	ops, err := listOperations(env, *model)
	if err != nil {
		return err
	}
	if *format == "tabular" {
		if len(ops) == 0 {
			fmt.Fprintln(env.Stderr, "No operations to display.")
			return nil
		}
		fmt.Fprint(env.Stdout, taskdoc.Tabular(ops))
		return nil
	}
	doc := map[string]any{}
	for _, op := range ops {
		doc[op.Id] = taskdoc.Operation(op)
	}
	return encode(env.Stdout, *format, doc)
}

func listOperations(env *Env, model string) ([]*apipb.OperationInfo, error) {
	conn, m, err := connectModel(env, model)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.ListOperations(ctx, &apipb.ListOperationsRequest{Model: m})
	if err != nil {
		return nil, apiError(err)
	}
	return res.Operations, nil
}

// runCancelTask cancels pending tasks, as `juju cancel-task <id>...`.
func runCancelTask(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("cancel-task")
	fs.SetArgs("<task-id> [<task-id>...]")
	model := fs.String("m", "model", "", "model of the tasks")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usage(errors.New("expected task ids; see `troupe operations` for the ids"))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range rest {
		t, err := conn.CancelTask(ctx, &apipb.GetTaskRequest{Model: m, Id: id})
		if err != nil {
			return apiError(err)
		}
		fmt.Fprintf(env.Stdout, "task %s: %s\n", t.Id, t.Status)
	}
	return nil
}
