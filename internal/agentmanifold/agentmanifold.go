// Package agentmanifold holds the manifolds every agent starts with: the
// agent's configuration (agent.conf in its data dir) and its API
// connection. The machine agent and each unit agent install both.
//
// Who imports it: machineagent and unitagent.
package agentmanifold

import (
	"context"

	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/engine"
)

// Agent reads dir/agent.conf and outputs an api.AgentConfig.
func Agent(dir string) dependency.Manifold {
	return dependency.Manifold{
		Start: func(ctx context.Context, _ dependency.Getter) (worker.Worker, error) {
			c, err := api.ReadAgentConfig(dir)
			if err != nil {
				return nil, err
			}
			return engine.NewValue(c, nil), nil
		},
		Output: engine.ValueOutput[api.AgentConfig],
	}
}

// APICaller dials the controller with the credentials of the agent
// manifold named agentName and outputs the *api.Conn; the connection is
// closed when the worker stops. onRedial, if not nil, is told of the
// agent each time the connection's transport is dialled again.
func APICaller(agentName string, onRedial func(api.AgentConfig)) dependency.Manifold {
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
			conn, err := api.Dial(c.Info)
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
