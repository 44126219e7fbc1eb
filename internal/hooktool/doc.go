// Package hooktool is the wire between a hook tool process (relation-get,
// status-set, …) and the unit agent that runs the hook.
//
// # Model
//
// Each unit's tools directory holds one small client binary (cmd/hooktool)
// and a symlink to it per tool name (see EnsureSymlinks and ToolNames). A
// charm's hook runs a tool; the client reads JUJU_CONTEXT_ID, its working
// directory and the agent's socket address from the environment, sends one
// Request over a unix socket, prints the Response's stdout and stderr and
// exits with its code.
//
// The unit agent owns one Server per unit for its whole life. Before it runs
// a hook (or action, or juju-exec command) it calls Begin with the hook's
// context ID and its per-hook state; the returned end func unregisters it.
// Requests carrying any other context ID are refused with
// `bad request: wrong context ID; got "<id>"` (exit 1). Requests for one
// context are served one at a time.
//
// # Framing
//
// Each message is one length-prefixed binary frame; the byte format, and
// the client side (Dial, Conn), live in the subpackage wire, which the
// client binary links instead of this package. A connection carries any
// number of request/response pairs in order; the client closes it when
// done. Messages larger than MaxMessageSize are refused; a malformed frame
// gets a `bad request: …` response (exit 1) and the connection is closed.
//
// # Stdin
//
// A client first sends a Request without stdin. If the tool asks for stdin
// (`relation-set --file -`) the server answers a Response with NeedStdin set
// and no output; the client then reads all of its stdin and repeats the
// request with StdinSet true. This keeps tools that never read stdin from
// blocking on a terminal.
//
// # Imports
//
// This package uses only the standard library and wire; it never imports
// the tool implementations (internal/hookcmds). The Server is generic over
// the per-hook context type, so the unit agent plugs hookcmds in without
// this package knowing it. The client binary (cmd/hooktool) does not import
// this package at all: the Server's net and fmt would slow every tool
// call's start-up (see wire's package doc and BenchmarkHookToolCall).
// Imported by internal/hookcmds and the unit agent.
package hooktool
