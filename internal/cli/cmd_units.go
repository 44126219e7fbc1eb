package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

func runAddUnit(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("add-unit")
	fs.SetArgs("<application>")
	n := fs.Int("n", "num-units", 1, "number of units to add")
	model := fs.String("m", "model", "", "model of the application")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("expected one application name; usage: troupe add-unit <application> [-n N]"))
	}
	if *n < 1 {
		return usage(fmt.Errorf("--num-units must be a positive integer, got %d", *n))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.AddUnit(ctx, &apipb.AddUnitRequest{Model: m, Application: rest[0], NumUnits: int32(*n)})
	if err != nil {
		return apiError(err)
	}
	fmt.Fprintf(env.Stderr, "Added %s\n", strings.Join(res.Units, ", "))
	return nil
}

func runRemoveUnit(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("remove-unit")
	fs.SetArgs("<unit> [<unit>...]")
	model := fs.String("m", "model", "", "model of the units")
	removalFlags(fs)
	units, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(units) == 0 {
		return usage(errors.New("no unit specified; usage: troupe remove-unit <unit> [<unit>...]"))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.RemoveUnit(ctx, &apipb.RemoveUnitRequest{Model: m, Units: units}); err != nil {
		return apiError(err)
	}
	for _, u := range units {
		fmt.Fprintf(env.Stderr, "will remove unit %s\n", u)
	}
	return nil
}

func runRemoveApplication(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("remove-application")
	fs.SetArgs("<application> [<application>...]")
	model := fs.String("m", "model", "", "model of the applications")
	removalFlags(fs)
	apps, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(apps) == 0 {
		return usage(errors.New("no application specified; usage: troupe remove-application <application>..."))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.RemoveApplication(ctx, &apipb.RemoveApplicationRequest{Model: m, Applications: apps}); err != nil {
		return apiError(err)
	}
	for _, a := range apps {
		fmt.Fprintf(env.Stderr, "will remove application %s\n", a)
	}
	return nil
}

// removalFlags accepts Juju's flags of the removal commands that change
// nothing here: troupe never prompts, and removals always wait for hooks.
func removalFlags(fs *cmdline.FlagSet) {
	fs.Bool("", "no-prompt", false, "accepted for compatibility; troupe never prompts")
	fs.Bool("", "force", false, "accepted for compatibility")
	fs.Bool("", "no-wait", false, "accepted for compatibility")
	fs.Bool("", "destroy-storage", false, "accepted for compatibility")
}
