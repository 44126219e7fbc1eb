package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// defaultDestroyWait bounds how long destroy-model waits for the model to
// be gone when --timeout is not given.
const defaultDestroyWait = 10 * time.Minute

func runDestroyModel(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("destroy-model")
	fs.SetArgs("<model>")
	noPrompt := fs.Bool("", "no-prompt", false, "do not ask for confirmation (troupe never prompts; this flag is required)")
	yes := fs.Bool("y", "yes", false, "same as --no-prompt")
	destroyStorage := fs.Bool("", "destroy-storage", false, "destroy the model's storage")
	releaseStorage := fs.Bool("", "release-storage", false, "release the model's storage from the model instead of destroying it (the default)")
	force := fs.Bool("", "force", false, "do not wait for units in error to run their tear-down hooks")
	noWait := fs.Bool("", "no-wait", false, "return once the model is dying, without waiting for it to be gone")
	timeout := fs.Duration("", "timeout", 0, "with --force: how long to wait for the model to be gone")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *destroyStorage && *releaseStorage {
		return usage(errors.New("--destroy-storage and --release-storage cannot both be specified"))
	}
	if len(rest) != 1 {
		return usage(errors.New("expected exactly one model reference; see `troupe models`"))
	}
	if !*noPrompt && !*yes {
		return usage(fmt.Errorf("destroying model %q removes its applications and machines; run again with --no-prompt to confirm", rest[0]))
	}
	if fs.IsSet("timeout") && !*force {
		return usage(errors.New("--timeout can only be used with --force"))
	}
	if fs.IsSet("timeout") && *timeout < 0 {
		return usage(fmt.Errorf("--timeout must not be negative, got %s", *timeout))
	}
	conn, cc, err := connect(env)
	if err != nil {
		return err
	}
	defer conn.Close()
	name, err := resolveModelRef(cc, rest[0])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	res, err := conn.DestroyModel(ctx, &apipb.DestroyModelRequest{Model: name, Force: *force, DestroyStorage: *destroyStorage})
	cancel()
	if err != nil {
		return apiError(err)
	}
	fmt.Fprintf(env.Stderr, "Destroying model %q\n", name)
	if *noWait {
		return nil
	}
	wait := defaultDestroyWait
	if fs.IsSet("timeout") {
		wait = *timeout
	}
	deadline := time.Now().Add(wait)
	lastForce := time.Now()
	for {
		if *force && time.Since(lastForce) > 2*time.Second {
			// Units may fall into error while the model is dying (a hook
			// retry failing again): with --force each new one is made dead.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err := conn.DestroyModel(ctx, &apipb.DestroyModelRequest{Model: name, Force: true, DestroyStorage: *destroyStorage})
			cancel()
			if err != nil && !isNotFound(err) {
				return apiError(err)
			}
			lastForce = time.Now()
		}
		gone, err := modelGone(conn, res.Uuid)
		if err != nil {
			return err
		}
		if gone {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for model %q to be destroyed; it stays dying: check `troupe status -m %s` for units in error and run destroy-model again with --force", wait, name, name)
		}
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Fprintf(env.Stderr, "Model %q destroyed.\n", name)
	if cc.CurrentModel == name {
		fmt.Fprintf(env.Stderr, "The current model was destroyed; choose another with `troupe switch`.\n")
	}
	return nil
}

func modelGone(conn interface {
	ListModels(context.Context, *apipb.ListModelsRequest, ...grpc.CallOption) (*apipb.ListModelsResult, error)
}, uuid string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.ListModels(ctx, &apipb.ListModelsRequest{})
	if err != nil {
		return false, apiError(err)
	}
	for _, m := range res.Models {
		if m.Uuid == uuid {
			return false, nil
		}
	}
	return true, nil
}

func isNotFound(err error) bool { return status.Code(err) == codes.NotFound }
