// Command hooktool is the hook tool client. The unit agent links every tool
// name (relation-get, status-set, …) to this binary; it dispatches on the
// name it was run as, or on its first argument when run as "hooktool".
// It forwards the call to the unit agent over the unix socket named by
// JUJU_AGENT_SOCKET_ADDRESS and mirrors the agent's stdout, stderr and exit
// code.
//
// It starts on every hook tool call, so it imports only
// internal/hooktool/wire and the few standard packages that has (errors,
// io, sync, syscall): no os, time, net or fmt, whose initialisers and
// dynamic linking cost more than the call itself. That is why it reads its
// arguments from /proc/self/cmdline and talks to file descriptors directly.
// internal/lint enforces the import list.
package main

import (
	"errors"
	"io"
	"syscall"

	"github.com/troupe-dev/troupe/internal/hooktool/wire"
)

func main() {
	syscall.Exit(run())
}

func run() int {
	argv, err := args()
	if err != nil {
		return fail(err.Error())
	}
	name := base(argv[0])
	argv = argv[1:]
	if name == "hooktool" || name == "jujuc" {
		if len(argv) == 0 {
			wire.FD(2).Write([]byte("usage: hooktool <tool> [args...]\n"))
			return 2
		}
		name, argv = argv[0], argv[1:]
	}
	contextID, _ := syscall.Getenv("JUJU_CONTEXT_ID")
	if contextID == "" {
		return fail("JUJU_CONTEXT_ID not set")
	}
	address, _ := syscall.Getenv("JUJU_AGENT_SOCKET_ADDRESS")
	if address == "" {
		return fail("JUJU_AGENT_SOCKET_ADDRESS not set")
	}
	if network, _ := syscall.Getenv("JUJU_AGENT_SOCKET_NETWORK"); network != "" && network != "unix" {
		return fail("JUJU_AGENT_SOCKET_NETWORK " + network + " is not supported: Troupe serves hook tools on a unix socket only")
	}
	dir, err := workingDir()
	if err != nil {
		return fail("cannot get working directory: " + err.Error())
	}
	resp, err := wire.Call(address, wire.Request{
		ContextID: contextID,
		Dir:       dir,
		Command:   name,
		Args:      argv,
	}, wire.FD(0))
	if err != nil {
		return fail(err.Error())
	}
	// Like any tool, a closed stdout or stderr does not change the exit code.
	wire.FD(1).Write(resp.Stdout)
	wire.FD(2).Write(resp.Stderr)
	return resp.Code
}

func fail(msg string) int {
	wire.FD(2).Write([]byte("ERROR " + msg + "\n"))
	return 1
}

// args returns the process's argv, read from /proc/self/cmdline (the
// runtime hands argv only to package os). Arguments may be empty or hold
// any bytes but NUL, as in any argv.
func args() ([]string, error) {
	data, err := readFile("/proc/self/cmdline")
	if err != nil {
		return nil, errors.New("cannot read arguments: " + err.Error())
	}
	if len(data) == 0 || data[len(data)-1] != 0 {
		return nil, errors.New("cannot read arguments: /proc/self/cmdline is empty or truncated")
	}
	var argv []string
	start := 0
	for i, b := range data {
		if b == 0 {
			argv = append(argv, string(data[start:i]))
			start = i + 1
		}
	}
	return argv, nil
}

func readFile(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, errors.New("open " + path + ": " + err.Error())
	}
	defer syscall.Close(fd)
	data, err := io.ReadAll(wire.FD(fd))
	if err != nil {
		return nil, errors.New("read " + path + ": " + err.Error())
	}
	return data, nil
}

// workingDir is the directory the tool runs in, as os.Getwd finds it: $PWD
// when that names the current directory (keeping the hook's view through
// symlinks), else the kernel's path.
func workingDir() (string, error) {
	if pwd, _ := syscall.Getenv("PWD"); len(pwd) > 0 && pwd[0] == '/' {
		var dot, p syscall.Stat_t
		if syscall.Stat(".", &dot) == nil && syscall.Stat(pwd, &p) == nil && dot.Dev == p.Dev && dot.Ino == p.Ino {
			return pwd, nil
		}
	}
	return syscall.Getwd()
}

// base is the last element of a slash-separated path.
func base(path string) string {
	for len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[i+1:]
		}
	}
	return path
}
