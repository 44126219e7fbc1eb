package cli

import (
	"context"
	"errors"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

func runRemoveMachine(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("remove-machine")
	fs.SetArgs("<machine> ...")
	force := fs.Bool("", "force", false, "also remove the units on the machines, without their tear-down hooks")
	fs.Bool("", "no-prompt", false, "do not ask for confirmation (troupe never prompts)")
	fs.Bool("", "keep-instance", false, "accepted for compatibility")
	fs.Bool("", "no-wait", false, "accepted for compatibility")
	fs.Bool("", "destroy-storage", false, "accepted for compatibility")
	model := fs.String("m", "model", "", "model of the machines")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usage(errors.New("no machine given; see `troupe status`"))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.RemoveMachine(ctx, &apipb.RemoveMachineRequest{Model: m, Machines: rest, Force: *force}); err != nil {
		return apiError(err)
	}
	return nil
}
