// Package hookcmds implements the hook tools (relation-get, status-set,
// secret-add, …) on the agent side: argument parsing, validation, output
// formatting and exit codes, matching Juju's jujuc tools byte for byte
// where charms depend on it (§4 of the contract).
//
// # Model
//
// Run(ctx, Invocation) executes one tool against a Context, the per-hook
// interface the unit agent provides (context.go documents which calls are
// immediate and which are buffered until the hook commits). Serve adapts
// Run to hooktool.Handler so the agent's socket server calls it directly:
//
//	srv, err := hooktool.NewServer(socketPath, hookcmds.Serve)
//	hs := hookcmds.NewHookState(hookcmds.HookStateConfig{Backend: b})
//	end := srv.Begin(contextID, hs)
//	... run the hook process ...
//	end()
//	if exitCode == 0 { commit(hs.Changes()) }
//
// HookState is the reusable Context: it buffers relation-set, ports,
// charm state, storage-add and secret writes (Changes), makes a false
// is-leader sticky for the hook, enforces relation data access rules
// (leader-only application bag writes; non-leaders may not read their own
// application's bag on non-peer relations), caches relation reads for the
// hook and applies the charm state size limit. The agent supplies only a
// Backend: pass-through calls (status, logs, config, actions, network,
// resources, reboot) and reads of committed data.
//
// # Conventions
//
// Flags are GNU style and may be interspersed with arguments; "--" ends
// flags; bool flags accept "=true|True|false|False". Exit code 0 is
// success, 2 a flag or argument error, 1 a runtime error; errors go to
// stderr as "ERROR <message>". --format is smart (default), json or yaml
// and -o/--output writes to a file.
//
// # Imports
//
// Imported by the unit agent. Imports internal/hooktool for the wire types,
// internal/limits for the size limits
// and gopkg.in/yaml.v3; never imports agent, controller or API code. Tests
// use the in-memory Backend of hookcmdstest.
package hookcmds
