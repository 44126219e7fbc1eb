package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

func runAddUnit(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("add-unit")
	fs.SetArgs("<application>")
	n := fs.Int("n", "num-units", 1, "number of units to add")
	model := fs.String("m", "model", "", "model of the application")
	to := fs.Strings("", "to", "machines to place the units on, comma-separated (e.g. --to 0,0,1)")
	wait := fs.Duration("", "wait", 0, "wait up to this long for the units to settle, showing progress (e.g. --wait 5m)")
	attach := fs.Strings("", "attach-storage", "existing storage to attach (not supported)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("expected one application name; usage: troupe add-unit <application> [-n N] [--to <machine>[,<machine>...]]"))
	}
	if *n < 1 {
		return usage(fmt.Errorf("--num-units must be a positive integer, got %d", *n))
	}
	if _, err := storageDirectives(nil, *attach); err != nil {
		return err
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.AddUnit(ctx, &apipb.AddUnitRequest{Model: m, Application: rest[0], NumUnits: int32(*n), To: cmdline.SplitCommas(*to...)})
	if err != nil {
		return apiError(err)
	}
	fmt.Fprintf(env.Stderr, "Added %s\n", strings.Join(res.Units, ", "))
	if *wait > 0 {
		return waitSettled(env, conn, m, []string{rest[0]}, nil, *wait)
	}
	return nil
}

func runRemoveUnit(env *Env, args []string) error {
	return runRemoval(env, args, "remove-unit", "unit", func(ctx context.Context, conn *api.Conn, model string, names []string, destroyStorage bool) error {
		_, err := conn.RemoveUnit(ctx, &apipb.RemoveUnitRequest{Model: model, Units: names, DestroyStorage: destroyStorage})
		return err
	})
}

func runRemoveApplication(env *Env, args []string) error {
	return runRemoval(env, args, "remove-application", "application", func(ctx context.Context, conn *api.Conn, model string, names []string, destroyStorage bool) error {
		_, err := conn.RemoveApplication(ctx, &apipb.RemoveApplicationRequest{Model: model, Applications: names, DestroyStorage: destroyStorage})
		return err
	})
}

// runRemoval is the shared body of the removal commands: parse Juju's
// flags, ask the controller to remove every named entity (it checks them
// all before changing any), and say what will go.
func runRemoval(env *Env, args []string, verb, kind string, remove func(context.Context, *api.Conn, string, []string, bool) error) error {
	fs := cmdline.NewFlagSet(verb)
	fs.SetArgs("<" + kind + "> [<" + kind + ">...]")
	model := fs.String("m", "model", "", "model of the "+kind+"s")
	destroyStorage := removalFlags(fs)
	var numUnits *int
	if verb == "remove-unit" {
		numUnits = fs.Int("", "num-units", 0, "Kubernetes models only: the number of units of one application to remove; not valid on machine models")
	}
	names, err := parse(fs, args)
	if err != nil {
		return err
	}
	// Juju's remove-unit: --num-units scales down a Kubernetes
	// application; every troupe model is a machine (iaas) model, where
	// Juju refuses it with this message.
	if numUnits != nil && fs.IsSet("num-units") {
		return usage(errors.New("--num-units for non kubernetes models not valid; name the units to remove instead: troupe remove-unit <application>/<n>..."))
	}
	if len(names) == 0 {
		return usage(fmt.Errorf("no %s specified; usage: troupe %s <%s>...", kind, verb, kind))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := remove(ctx, conn, m, names, *destroyStorage); err != nil {
		return apiError(err)
	}
	for _, n := range names {
		fmt.Fprintf(env.Stderr, "will remove %s %s\n", kind, n)
	}
	return nil
}

// removalFlags accepts Juju's flags of the removal commands that change
// nothing here: troupe never prompts, and removals always wait for hooks.
// It returns --destroy-storage: without it a removed unit's storage is
// left detached.
func removalFlags(fs *cmdline.FlagSet) *bool {
	fs.Bool("", "no-prompt", false, "accepted for compatibility; troupe never prompts")
	fs.Bool("", "force", false, "accepted for compatibility")
	fs.Bool("", "no-wait", false, "accepted for compatibility")
	return fs.Bool("", "destroy-storage", false, "destroy the units' storage instead of leaving it detached")
}
