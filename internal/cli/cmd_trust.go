package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

func runTrust(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("trust")
	fs.SetArgs("<application>")
	remove := fs.Bool("", "remove", false, "remove trust")
	scope := fs.String("", "scope", "cluster", "Kubernetes scope (accepted and ignored on machine models)")
	model := fs.String("m", "model", "", "model of the application")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("expected one application name"))
	}
	if *scope != "cluster" {
		return usage(fmt.Errorf("invalid --scope %q: only \"cluster\" is supported", *scope))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.SetTrust(ctx, &apipb.SetTrustRequest{Model: m, Application: rest[0], Trust: !*remove}); err != nil {
		return apiError(err)
	}
	return nil
}
