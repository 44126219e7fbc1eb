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

func runRefresh(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("refresh")
	fs.SetArgs("<application> --path <charm-dir|charm.charm>")
	path := fs.String("", "path", "", "the new charm: a charm directory or a .charm archive")
	model := fs.String("m", "model", "", "model of the application")
	configs := fs.Strings("", "config", "charm option k=v to set with the refresh (repeatable)")
	channel := fs.String("", "channel", "", "not available: only local charms (--path) can be refreshed")
	revision := fs.String("", "revision", "", "not available: only local charms (--path) can be refreshed")
	// Accepted for compatibility (jubilant passes all three with force=True);
	// Troupe has no base or unit-error checks for them to lift.
	fs.Bool("", "force", false, "accepted; no effect")
	fs.Bool("", "force-units", false, "accepted; no effect")
	fs.Bool("", "force-base", false, "accepted; no effect")
	wait := fs.Duration("", "wait", 0, "wait up to this long for the units to settle, showing progress (e.g. --wait 5m)")
	resources := fs.Strings("", "resource", "file resource name=path to replace (repeatable)")
	trust := fs.Bool("", "trust", false, "also give the application access to trusted credentials")
	base := fs.String("", "base", "", "base, as <os>@<channel> (validated; the local provider runs any)")
	fs.Strings("", "storage", "accepted for compatibility (the local provider has no storage)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *base != "" && !baseRE.MatchString(*base) {
		return usage(fmt.Errorf("invalid --base %q: expected <os>@<channel>, e.g. ubuntu@24.04", *base))
	}
	files, err := readResources(*resources)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("expected one application name; see `troupe refresh --help`"))
	}
	if *channel != "" || *revision != "" {
		return usage(errors.New("--channel and --revision need Charmhub, which Troupe does not reach; give the new charm with --path"))
	}
	kv, err := cmdline.ParseKeyValues(*configs)
	if err != nil {
		return usage(err)
	}
	if *path == "" {
		return usage(errors.New("only local charms can be refreshed: give the new charm with --path <charm-dir|charm.charm>"))
	}
	ch, archive, err := loadCharm("refresh", *path)
	if err != nil {
		return err
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := conn.Refresh(ctx, &apipb.RefreshRequest{Model: m, Application: rest[0], CharmArchive: archive, Config: kv, Resources: files})
	if err != nil {
		return apiError(err)
	}
	if *trust {
		if _, err := conn.SetTrust(ctx, &apipb.SetTrustRequest{Model: m, Application: rest[0], Trust: true}); err != nil {
			return fmt.Errorf("refreshed, but cannot set trust: %v", apiError(err))
		}
	}
	fmt.Fprintf(env.Stderr, "Added local charm %q, revision %d, to the model\n", ch.Meta.Name, res.CharmRev)
	if len(res.Dropped) > 0 {
		fmt.Fprintf(env.Stderr, "Settings dropped (not accepted by the new charm): %s\n", strings.Join(res.Dropped, ", "))
	}
	if *wait > 0 {
		return waitSettled(env, conn, m, []string{rest[0]}, nil, *wait)
	}
	return nil
}
