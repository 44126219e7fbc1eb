package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/constraints"
)

// runAddMachine adds empty machines, as `juju add-machine [-n N]`. They
// are provisioned like the machines of a deploy, appear in status at once
// and are kept when they host no units. Placement targets (lxd, ssh:…,
// hostnames) are refused: only new machines on the local provider exist.
func runAddMachine(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("add-machine")
	fs.SetArgs("")
	n := fs.Int("n", "", 1, "number of machines to add")
	model := fs.String("m", "model", "", "model to add the machines to")
	fs.String("", "base", "", "accepted for compatibility; machines use the provider's base")
	cons := fs.Strings("", "constraints", "machine constraints k=v (repeatable; over the model's; the lxd cloud applies cores and mem, the local one records them)")
	fs.String("", "disks", "", "accepted for compatibility (the local provider has no storage)")
	fs.String("", "private-key", "", "accepted for compatibility (ssh: targets are not supported)")
	fs.String("", "public-key", "", "accepted for compatibility (ssh: targets are not supported)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if _, err := constraints.Parse(*cons); err != nil {
		return usage(fmt.Errorf("invalid --constraints: %w", err))
	}
	if len(rest) > 0 {
		return usage(addMachineTargetError(rest[0]))
	}
	if *n < 1 {
		return usage(errors.New("-n must be a positive integer"))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.AddMachine(ctx, &apipb.AddMachineRequest{Model: m, NumMachines: int32(*n), Constraints: *cons})
	if err != nil {
		return apiError(err)
	}
	for _, id := range res.Machines {
		fmt.Fprintf(env.Stderr, "created machine %s\n", id)
	}
	return nil
}

// addMachineTargetError says why a placement target of add-machine is
// refused and what to run instead.
func addMachineTargetError(target string) error {
	kind, _, _ := strings.Cut(target, ":")
	switch {
	case kind == "lxd" || kind == "kvm":
		return fmt.Errorf("add-machine %s: troupe does not create %s containers inside machines; for machines that are LXD containers add a model on the lxd cloud (`troupe add-model NAME lxd`) and run `troupe add-machine [-n N]` there", target, kind)
	case kind == "ssh" || kind == "winrm":
		return fmt.Errorf("add-machine %s: manually provisioned machines are not supported; run `troupe add-machine [-n N]` to add machines from the model's cloud", target)
	}
	return fmt.Errorf("add-machine target %q is not supported: run `troupe add-machine [-n N]` to add new machines", target)
}
