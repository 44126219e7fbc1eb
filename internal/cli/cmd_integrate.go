package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// runIntegrate is `troupe integrate <app>[:<endpoint>] <app>[:<endpoint>]`
// (alias `relate`): it adds a relation and returns; the units' relation
// hooks then run on their own.
func runIntegrate(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("integrate")
	fs.SetArgs("<application>[:<endpoint>] <application>[:<endpoint>]")
	model := fs.String("m", "model", "", "model of the applications")
	via := fs.String("", "via", "", "egress subnets of a cross-controller relation; not supported, must be empty")
	wait := fs.Duration("", "wait", 0, "wait up to this long for the units to settle, showing progress (e.g. --wait 5m)")
	eps, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *via != "" {
		return usage(errors.New("--via is for cross-controller relations, which troupe does not support; relations to offers of this controller need none"))
	}
	if len(eps) != 2 {
		return usage(errors.New("integrate needs exactly two endpoints: troupe integrate <application>[:<endpoint>] <application>[:<endpoint>]"))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// An offer URL ([owner/]model.offer[:endpoint]) is consumed under
	// the offer's name first, as Juju does (cmd_offer.go).
	for i, ep := range eps {
		if eps[i], err = consumeForIntegrate(ctx, env, conn, m, ep); err != nil {
			return err
		}
	}
	res, err := conn.Integrate(ctx, &apipb.IntegrateRequest{Model: m, A: eps[0], B: eps[1]})
	if err != nil {
		return apiError(err)
	}
	if *wait > 0 {
		var apps []string
		for _, e := range res.Endpoints {
			apps = append(apps, e.Application)
		}
		return waitSettled(env, conn, m, apps, nil, *wait)
	}
	return nil
}

// runRemoveRelation is `troupe remove-relation <app>[:<ep>] <app>[:<ep>]`
// or `troupe remove-relation <relation-id>`: the relation goes dying, its
// units run -departed and -broken, then it is gone.
func runRemoveRelation(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("remove-relation")
	fs.SetArgs("<application>[:<endpoint>] <application>[:<endpoint>] | <relation-id>")
	model := fs.String("m", "model", "", "model of the relation")
	fs.Bool("", "force", false, "accepted for compatibility; removal is always orderly")
	fs.Bool("", "no-prompt", false, "accepted for compatibility; troupe never prompts")
	eps, err := parse(fs, args)
	if err != nil {
		return err
	}
	req := &apipb.RemoveRelationRequest{}
	switch len(eps) {
	case 1:
		req.A = eps[0]
	case 2:
		req.A, req.B = eps[0], eps[1]
	default:
		return usage(fmt.Errorf("remove-relation needs two endpoints or one relation id, got %d arguments", len(eps)))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	req.Model = m
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.RemoveRelation(ctx, req); err != nil {
		return apiError(err)
	}
	return nil
}
