// Package agentmanifold holds the manifolds every agent starts with: the
// agent's configuration (agent.conf in its data dir) and its API
// connection. The machine agent and each unit agent install both.
//
// Who imports it: machineagent and unitagent.
package agentmanifold

import (
	"context"
	"fmt"

	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"
	"gopkg.in/tomb.v2"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/engine"
)

// Agent reads dir/agent.conf and outputs an api.AgentConfig and a
// Reloader. Reloading (after agent.conf was rewritten, e.g. with a new
// credential) bounces the worker, so it re-reads the file and everything
// depending on it — the API caller first — restarts with the new config.
func Agent(dir string) dependency.Manifold {
	return dependency.Manifold{
		Start: func(ctx context.Context, _ dependency.Getter) (worker.Worker, error) {
			c, err := api.ReadAgentConfig(dir)
			if err != nil {
				return nil, err
			}
			w := &configWorker{c: c}
			w.tomb.Go(func() error {
				<-w.tomb.Dying()
				return nil
			})
			return w, nil
		},
		Output: func(in worker.Worker, out any) error {
			w, ok := in.(*configWorker)
			if !ok {
				return fmt.Errorf("expected *configWorker, got %T", in)
			}
			switch p := out.(type) {
			case *api.AgentConfig:
				*p = w.c
			case *Reloader:
				*p = w.reload
			default:
				return fmt.Errorf("agent manifold outputs *api.AgentConfig or *agentmanifold.Reloader, not %T", out)
			}
			return nil
		},
	}
}

// Reloader bounces the agent manifold so agent.conf is read again.
type Reloader func()

type configWorker struct {
	tomb tomb.Tomb
	c    api.AgentConfig
}

func (w *configWorker) reload()     { w.tomb.Kill(dependency.ErrBounce) }
func (w *configWorker) Kill()       { w.tomb.Kill(nil) }
func (w *configWorker) Wait() error { return w.tomb.Wait() }

// APICaller dials the controller with the credentials of the agent
// manifold named agentName through pool (the transport the process's
// agents share; nil: a connection of its own) and outputs the *api.Conn;
// the Conn is closed when the worker stops (the shared transport once
// its last agent closed). onRedial, if not nil, is told of the agent
// each time the transport is dialled again.
func APICaller(agentName string, pool *api.Pool, onRedial func(api.AgentConfig)) dependency.Manifold {
	return dependency.Manifold{
		Inputs: []string{agentName},
		Start: func(ctx context.Context, g dependency.Getter) (worker.Worker, error) {
			var c api.AgentConfig
			if err := g.Get(agentName, &c); err != nil {
				return nil, err
			}
			if onRedial != nil {
				c.Info.OnRedial = func() { onRedial(c) }
			}
			conn, err := pool.Dial(c.Info)
			if err != nil {
				return nil, err
			}
			return engine.NewValue(conn, func() { conn.Close() }), nil
		},
		Output: engine.ValueOutput[*api.Conn],
	}
}

// Inputs fetches the outputs of the agent and api-caller manifolds, for
// the start functions of manifolds that declare both as inputs.
func Inputs(g dependency.Getter, agentName, apiCallerName string) (api.AgentConfig, *api.Conn, error) {
	var c api.AgentConfig
	var conn *api.Conn
	if err := g.Get(agentName, &c); err != nil {
		return c, nil, err
	}
	if err := g.Get(apiCallerName, &conn); err != nil {
		return c, nil, err
	}
	return c, conn, nil
}
