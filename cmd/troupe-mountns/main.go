// Command troupe-mountns runs a command in a private mount namespace with
// a directory bind-mounted on a fixed path; the uniter starts it (with
// CLONE_NEWNS) for every hook, action and exec of a charm that declares
// containers, so the charm sees its own Pebble sockets at
// /charm/containers. It is small on purpose (standard library and
// internal/mountns only): it starts once per hook.
//
//	troupe-mountns mount-ns SRC DST -- PATH [ARG...]
package main

import (
	"fmt"
	"os"

	"github.com/troupe-dev/troupe/internal/mountns"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != mountns.Personality {
		fmt.Fprintln(os.Stderr, "ERROR usage: troupe-mountns mount-ns SRC DST -- PATH [ARG...] (started by the unit agent; not for direct use)")
		os.Exit(2)
	}
	if err := mountns.Main(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "ERROR %v\n", err)
		os.Exit(1)
	}
}
