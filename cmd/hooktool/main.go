// Command hooktool is the hook tool client. The unit agent links every tool
// name (relation-get, status-set, …) to this binary; it dispatches on the
// name it was run as, or on its first argument when run as "hooktool".
// It forwards the call to the unit agent over JUJU_AGENT_SOCKET_ADDRESS and
// mirrors the agent's stdout, stderr and exit code. It imports only the
// standard library and internal/hooktool so that it starts fast.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/troupe-dev/troupe/internal/hooktool"
)

func main() {
	os.Exit(run(os.Args))
}

func run(argv []string) int {
	name := filepath.Base(argv[0])
	args := argv[1:]
	if name == "hooktool" || name == "jujuc" {
		if len(args) == 0 {
			fmt.Fprintf(os.Stderr, "usage: hooktool <tool> [args...]\n")
			return 2
		}
		name, args = args[0], args[1:]
	}
	contextID := os.Getenv("JUJU_CONTEXT_ID")
	if contextID == "" {
		return fail("JUJU_CONTEXT_ID not set")
	}
	address := os.Getenv("JUJU_AGENT_SOCKET_ADDRESS")
	if address == "" {
		return fail("JUJU_AGENT_SOCKET_ADDRESS not set")
	}
	network := os.Getenv("JUJU_AGENT_SOCKET_NETWORK")
	if network == "" {
		network = "unix"
	}
	dir, err := os.Getwd()
	if err != nil {
		return fail(fmt.Sprintf("cannot get working directory: %v", err))
	}
	resp, err := hooktool.Call(network, address, hooktool.Request{
		ContextID: contextID,
		Dir:       dir,
		Command:   name,
		Args:      args,
	}, os.Stdin)
	if err != nil {
		return fail(err.Error())
	}
	os.Stdout.Write(resp.Stdout)
	os.Stderr.Write(resp.Stderr)
	return resp.Code
}

func fail(msg string) int {
	fmt.Fprintf(os.Stderr, "ERROR %s\n", msg)
	return 1
}
