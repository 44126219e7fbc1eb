package cli

import (
	"context"
	"errors"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

func runResolve(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("resolve")
	fs.SetArgs("<unit> [<unit>...]")
	noRetry := fs.Bool("", "no-retry", false, "skip the failed hook instead of running it again")
	model := fs.String("m", "model", "", "model of the units")
	units, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(units) == 0 {
		return usage(errors.New("no unit specified; usage: troupe resolve <unit> [--no-retry]"))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, u := range units {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := conn.ResolveUnit(ctx, &apipb.ResolveUnitRequest{Model: m, Unit: u, NoRetry: *noRetry})
		cancel()
		if err != nil {
			return apiError(err)
		}
	}
	return nil
}
