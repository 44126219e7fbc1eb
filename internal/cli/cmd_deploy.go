package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// apiError turns a gRPC error into its human message.
func apiError(err error) error {
	if s, ok := status.FromError(err); ok {
		return errors.New(s.Message())
	}
	return err
}

func runDeploy(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("deploy")
	fs.SetArgs("<charm-dir|charm.charm> [<application>]")
	n := fs.Int("n", "num-units", 1, "number of units to deploy")
	configs := fs.Strings("", "config", "charm option k=v (repeatable)")
	model := fs.String("m", "model", "", "model to deploy into")
	to := fs.Strings("", "to", "machines to place the units on, comma-separated (e.g. --to 0,1)")
	dryRun := fs.Bool("", "dry-run", false, "for a bundle: print the changes deploying it would make, and stop")
	wait := fs.Duration("", "wait", 0, "wait up to this long for the units to settle, showing progress (e.g. --wait 5m)")
	base := fs.String("", "base", "", "base to deploy on, as <os>@<channel> (e.g. ubuntu@24.04)")
	cons := fs.Strings("", "constraints", "constraints of the machines made for the units, k=v (repeatable; over the model's; the lxd cloud applies cores and mem, the local one records them)")
	trust := fs.Bool("", "trust", false, "give the application access to trusted credentials")
	resources := fs.Strings("", "resource", "file resource name=path (repeatable)")
	channel := fs.String("", "channel", "", "Charmhub channel (Charmhub is not supported)")
	revision := fs.Int("", "revision", -1, "Charmhub revision (Charmhub is not supported)")
	fs.Bool("", "force", false, "accepted for compatibility")
	fs.String("", "bind", "", "accepted for compatibility (the local provider has one space)")
	storage := fs.Strings("", "storage", "storage directive name=pool,size,count, e.g. data=rootfs,2G,1 (repeatable; the local provider has filesystem storage in pool rootfs)")
	attach := fs.Strings("", "attach-storage", "existing storage to attach (not supported)")
	fs.Strings("", "overlay", "bundle overlays (not supported)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 1 || len(rest) > 2 {
		return usage(errors.New("expected a charm path and an optional application name; see `troupe deploy --help`"))
	}
	if *n < 1 {
		return usage(fmt.Errorf("--num-units must be a positive integer, got %d", *n))
	}
	kv, err := cmdline.ParseKeyValues(*configs)
	if err != nil {
		return usage(err)
	}
	path := rest[0]
	if err := checkDeployFlags(path, *base, *cons, *channel, *revision, fs.IsSet("overlay")); err != nil {
		return err
	}
	files, err := readResources(*resources)
	if err != nil {
		return err
	}
	directives, err := storageDirectives(*storage, *attach)
	if err != nil {
		return err
	}
	if isBundlePath(path) {
		if len(rest) != 1 || fs.IsSet("n") || len(*configs) > 0 || len(*to) > 0 {
			return usage(errors.New("a bundle takes no application name, -n, --config or --to; put them in the bundle file"))
		}
		return deployBundle(env, *model, path, *dryRun)
	}
	if *dryRun {
		return usage(errors.New("--dry-run is only available for bundles"))
	}
	ch, archive, err := loadCharm("deploy", path)
	if err != nil {
		return err
	}
	num := *n
	if ch.Meta.Subordinate {
		if fs.IsSet("n") || len(*to) > 0 {
			return usage(fmt.Errorf("cannot use --num-units or --to with subordinate charm %q: its units follow the principal units it is integrated with", ch.Meta.Name))
		}
		num = 0
	}
	if _, err := ch.Config.ParseSettingsStrings(kv); err != nil {
		return fmt.Errorf("cannot deploy %q: %w", ch.Meta.Name, err)
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	name := ""
	if len(rest) == 2 {
		name = rest[1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := conn.Deploy(ctx, &apipb.DeployRequest{Model: m, Application: name, CharmArchive: archive, NumUnits: int32(num), Config: kv,
		To: cmdline.SplitCommas(*to...), Trust: *trust, Base: *base, Resources: files, Constraints: *cons, Storage: directives})
	if err != nil {
		return apiError(err)
	}
	abs, _ := filepath.Abs(path)
	units := fmt.Sprintf(" (%d units: %s)", len(res.Units), strings.Join(res.Units, ", "))
	if ch.Meta.Subordinate {
		units = " (subordinate: one unit per related principal unit)"
	}
	fmt.Fprintf(env.Stderr, "Located local charm %q, revision %s\nDeploying %q from local charm %q: %s%s\n",
		ch.Meta.Name, strings.TrimPrefix(res.CharmUrl, "local:"+ch.Meta.Name+"-"), res.Application, ch.Meta.Name, abs, units)
	if *wait > 0 {
		return waitSettled(env, conn, m, []string{res.Application}, map[string]int{res.Application: len(res.Units)}, *wait)
	}
	return nil
}
