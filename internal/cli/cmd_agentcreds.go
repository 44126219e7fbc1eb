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

// Agent credentials: `troupe revoke-agent <machine|unit>` invalidates an
// agent's credential at once (a machine's units with it);
// `troupe rotate-agent-credential <machine>` has the controller issue the
// machine agent a new one, which the agent stores and reconnects with.

func runRevokeAgent(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("revoke-agent")
	fs.SetArgs("<machine>|<unit>")
	model := fs.String("m", "model", "", "model of the agent")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("expected one machine id or unit name; see `troupe status`"))
	}
	req := &apipb.RevokeAgentRequest{}
	if strings.Contains(rest[0], "/") {
		req.Unit = rest[0]
	} else {
		req.Machine = rest[0]
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	req.Model = m
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.RevokeAgent(ctx, req)
	if err != nil {
		return apiError(err)
	}
	for _, t := range res.Revoked {
		tag, _, _ := strings.Cut(t, "@")
		fmt.Fprintf(env.Stderr, "revoked %s\n", tag)
	}
	return nil
}

func runRotateAgentCredential(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("rotate-agent-credential")
	fs.SetArgs("<machine>")
	model := fs.String("m", "model", "", "model of the machine")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || strings.Contains(rest[0], "/") {
		return usage(errors.New("expected one machine id (unit credentials are issued by their machine agent)"))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.RotateAgentCredential(ctx, &apipb.RotateAgentCredentialRequest{Model: m, Machine: rest[0]}); err != nil {
		return apiError(err)
	}
	return nil
}

// runRotateCerts is `troupe rotate-certs`: the controller issues its API
// server a new certificate from its CA; clients pin the CA, so nothing
// needs to change on their side.
func runRotateCerts(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("rotate-certs")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usage(errors.New("rotate-certs takes no arguments"))
	}
	conn, _, err := connect(env)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.RotateCertificates(ctx, &apipb.RotateCertificatesRequest{})
	if err != nil {
		return apiError(err)
	}
	fmt.Fprintf(env.Stdout, "New API server certificate %s, valid until %s\n", res.Serial, time.Unix(res.NotAfterUnix, 0).UTC().Format(time.RFC3339))
	return nil
}
