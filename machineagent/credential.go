package machineagent

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/troupe-dev/troupe/internal/agentmanifold"
	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
)

// credentialWorker picks up a credential the controller issues to the
// machine agent (`troupe rotate-agent-credential`): on every change of
// the machine it asks MachineCredential; a new password is written to
// agent.conf (0600) and the agent manifold reloaded, which bounces the
// API caller and everything using it, so they reconnect with the new
// credential. The old one stays valid on the controller until the new one
// is first used, so a crash between the two steps locks nobody out.
type credentialWorker struct {
	dir    string
	agent  api.AgentConfig
	conn   *api.Conn
	reload agentmanifold.Reloader
	log    *slog.Logger
}

func (w *credentialWorker) run(ctx context.Context) error {
	stream, err := w.conn.WatchMachine(ctx, &apipb.WatchMachineRequest{Machine: w.agent.Machine})
	if err != nil {
		return fmt.Errorf("cannot watch machine %s for credential changes: %w", w.agent.Machine, err)
	}
	for {
		if _, err := stream.Recv(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("machine watch stopped: %w", err)
		}
		res, err := w.conn.MachineCredential(ctx, &apipb.MachineCredentialRequest{Machine: w.agent.Machine})
		if err != nil {
			return fmt.Errorf("cannot fetch a new credential: %w", err)
		}
		if res.Password == "" {
			continue
		}
		next := w.agent
		next.Password = res.Password
		if err := api.WriteAgentConfig(w.dir, next); err != nil {
			return fmt.Errorf("cannot store the new credential: %w", err)
		}
		w.log.Info("new agent credential stored; reconnecting with it")
		w.reload()
		<-ctx.Done()
		return nil
	}
}
