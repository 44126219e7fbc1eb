package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/constraints"
)

func runModelConstraints(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("model-constraints")
	format := fs.String("", "format", "constraints", "output format: constraints|json|yaml")
	model := fs.String("m", "model", "", "model to read")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usage(fmt.Errorf("model-constraints takes no arguments; to set constraints use `troupe set-model-constraints %s`", rest[0]))
	}
	switch *format {
	case "constraints", "json", "yaml":
	default:
		return usage(fmt.Errorf("invalid --format %q: use constraints, json or yaml", *format))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.ModelConstraints(ctx, &apipb.ModelConstraintsRequest{Model: m})
	if err != nil {
		return apiError(err)
	}
	var cons map[string]any
	if err := json.Unmarshal(res.ConstraintsJson, &cons); err != nil {
		return fmt.Errorf("controller sent invalid constraints: %w", err)
	}
	switch *format {
	case "json":
		_, err := fmt.Fprintf(env.Stdout, "%s\n", res.ConstraintsJson)
		return err
	case "yaml":
		return writeYAML(env.Stdout, cons)
	}
	fmt.Fprintln(env.Stdout, constraints.Format(cons))
	return nil
}

func runSetModelConstraints(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("set-model-constraints")
	fs.SetArgs("<key>=<value> ...")
	model := fs.String("m", "model", "", "model to change")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if _, err := constraints.Parse(rest); err != nil {
		return usage(err)
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.ModelConstraints(ctx, &apipb.ModelConstraintsRequest{Model: m, Set: true, Constraints: rest}); err != nil {
		return apiError(err)
	}
	return nil
}
