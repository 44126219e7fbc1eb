// Package mountns runs a command in a private mount namespace in which one
// host directory is bind-mounted on a fixed path. The uniter uses it to
// show each unit its own Pebble sockets at /charm/containers (the path ops
// uses for sidecar charms), so that units sharing a host never see each
// other's sockets.
//
// It works in two halves, because a multi-threaded Go process cannot move
// itself into a new mount namespace:
//
//   - Wrap (in the agent) rewrites an *exec.Cmd to run the helper binary
//     (cmd/troupe-mountns, tiny so that it starts fast) with CLONE_NEWNS in its
//     SysProcAttr. The Go runtime makes "/" recursively private in the
//     child right after unshare, so no mount made there propagates to the
//     host (or to another unit's namespace).
//   - Exec (in the helper, before it starts any goroutine that matters)
//     bind-mounts the source on the target and execs the real command,
//     which inherits the namespace; so do its children (hook tools, the
//     pebble CLI).
//
// Requires CAP_SYS_ADMIN (the agents run as root). The target's mount
// point is created on the host if missing (an empty directory, nothing
// is mounted there on the host).
//
// It depends on the standard library only. Who imports it: workers/uniter
// (Wrap) and cmd/troupe-mountns (Main).
package mountns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// Personality is the helper's first argument: `troupe-mountns mount-ns ...`.
const Personality = "mount-ns"

// Wrap rewrites cmd, which must not have been started, so that it runs
// through helper in a new mount namespace with src bind-mounted on dst.
// cmd's environment, directory, stdio and context are kept; its
// SysProcAttr gains CLONE_NEWNS.
func Wrap(cmd *exec.Cmd, helper, src, dst string) {
	args := append([]string{helper, Personality, src, dst, "--", cmd.Path}, cmd.Args[1:]...)
	cmd.Path, cmd.Args = helper, args
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Unshareflags |= syscall.CLONE_NEWNS
}

// Main is the helper's entry point: args are what follows Personality,
// `SRC DST -- PATH [ARG...]`. It returns only on error.
func Main(args []string) error {
	if len(args) < 4 || args[2] != "--" {
		return errors.New("usage: troupe-mountns mount-ns SRC DST -- PATH [ARG...]")
	}
	return Exec(args[0], args[1], args[3], args[3:])
}

// Exec bind-mounts src on dst in the calling process's mount namespace
// (which must be private: see Wrap) and replaces the process with path.
func Exec(src, dst, path string, argv []string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("cannot create mount point %s: %w", dst, err)
	}
	// Mounting in the host's namespace would leak to every process.
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return fmt.Errorf("cannot read this process's mount namespace: %w", err)
	}
	if parent, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", os.Getppid())); err == nil && parent == self {
		return errors.New("refusing to mount: not in a mount namespace of its own (start it through mountns.Wrap)")
	}
	if err := syscall.Mount(src, dst, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("cannot bind-mount %s on %s: %w", src, dst, err)
	}
	if err := syscall.Exec(path, argv, os.Environ()); err != nil {
		return fmt.Errorf("cannot run %s: %w", path, err)
	}
	return nil
}
