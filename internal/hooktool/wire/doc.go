// Package wire is the hook tool protocol's byte format and its client side:
// the frames a hook tool process (cmd/hooktool) and the unit agent's
// hooktool.Server exchange over the agent's unix socket.
//
// # Why a package of its own
//
// Every hook tool call starts a fresh client process, so everything the
// client links runs its package initialisers on every call. This package and
// cmd/hooktool therefore import only errors, io and syscall: not os (its
// time and internal/godebug initialisers measured about half a millisecond
// per call on a busy 2-core VM), not net (which makes the binary
// dynamically linked against libc when cgo is enabled, and starts the
// poller) and not fmt, reflect or encoding/json.
// internal/lint checks this. BenchmarkHookToolCall in internal/hooktool
// measures the result against exec of /bin/true and of an empty Go program.
//
// # Frames
//
// Every message is one frame: a 4-byte big-endian body length (at most
// MaxMessageSize) followed by the body. All integers are big-endian and
// unsigned 32-bit unless said otherwise; a string is its length followed by
// its bytes (any bytes, not only UTF-8).
//
//	request  = 'Q' flags contextID dir command argc arg… [stdin]
//	           flags bit 0: stdin present (Request.StdinSet)
//	response = 'R' flags code stdout stderr
//	           flags bit 0: NeedStdin; code is a signed 32-bit exit code
//
// Unknown flag bits are refused, so a future change must bump the kind
// byte. A connection carries any number of request/response pairs in order;
// the client closes it when done. The stdin exchange (send without stdin,
// get NeedStdin, resend with it) is described in internal/hooktool.
//
// # Client
//
// Dial connects with blocking system calls and returns a Conn; Conn.Call
// runs one request including the stdin exchange. FD is a file descriptor as
// an io.ReadWriter, for the client's own stdin, stdout and stderr.
//
// Imported by cmd/hooktool and internal/hooktool; it imports nothing of
// this module.
package wire
