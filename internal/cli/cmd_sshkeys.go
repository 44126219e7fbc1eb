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

// sshKeys runs one ModelSSHKeys call for add-ssh-key, remove-ssh-key and
// ssh-keys.
func sshKeys(env *Env, verb string, args []string, needArgs bool, req func(m string, keys []string) *apipb.ModelSSHKeysRequest) ([]string, error) {
	fs := cmdline.NewFlagSet(verb)
	fs.SetArgs("<key> ...")
	model := fs.String("m", "model", "", "model whose keys to change")
	fs.Bool("", "full", false, "list the full keys (ssh-keys)")
	rest, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	if needArgs && len(rest) == 0 {
		return nil, usage(errors.New("no ssh key given; pass each key as one argument, e.g. \"$(cat ~/.ssh/id_ed25519.pub)\""))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.ModelSSHKeys(ctx, req(m, rest))
	if err != nil {
		return nil, apiError(err)
	}
	return res.Keys, nil
}

func runAddSSHKey(env *Env, args []string) error {
	_, err := sshKeys(env, "add-ssh-key", args, true, func(m string, keys []string) *apipb.ModelSSHKeysRequest {
		return &apipb.ModelSSHKeysRequest{Model: m, Add: keys}
	})
	return err
}

func runRemoveSSHKey(env *Env, args []string) error {
	_, err := sshKeys(env, "remove-ssh-key", args, true, func(m string, keys []string) *apipb.ModelSSHKeysRequest {
		return &apipb.ModelSSHKeysRequest{Model: m, Remove: keys}
	})
	return err
}

func runSSHKeys(env *Env, args []string) error {
	keys, err := sshKeys(env, "ssh-keys", args, false, func(m string, _ []string) *apipb.ModelSSHKeysRequest {
		return &apipb.ModelSSHKeysRequest{Model: m}
	})
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		fmt.Fprintln(env.Stderr, "No keys to display.")
		return nil
	}
	fmt.Fprintln(env.Stdout, strings.Join(keys, "\n"))
	return nil
}
