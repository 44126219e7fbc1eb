package hooktool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ToolNames lists every hook tool the agent serves, sorted. Each gets a
// symlink to the client binary in the unit's tools directory.
var ToolNames = []string{
	"action-fail",
	"action-get",
	"action-log",
	"action-set",
	"application-version-set",
	"close-port",
	"config-get",
	"credential-get",
	"goal-state",
	"is-leader",
	"juju-log",
	"juju-reboot",
	"leader-get",
	"leader-set",
	"network-get",
	"open-port",
	"opened-ports",
	"relation-get",
	"relation-ids",
	"relation-list",
	"relation-model-get",
	"relation-set",
	"resource-get",
	"secret-add",
	"secret-get",
	"secret-grant",
	"secret-ids",
	"secret-info-get",
	"secret-remove",
	"secret-revoke",
	"secret-set",
	"state-delete",
	"state-get",
	"state-set",
	"status-get",
	"status-set",
	"storage-add",
	"storage-get",
	"storage-list",
	"unit-get",
}

// EnsureSymlinks makes toolsDir/<name> a symlink to binaryPath for every
// name, creating toolsDir if needed and replacing links or files that point
// elsewhere. It is idempotent.
func EnsureSymlinks(toolsDir, binaryPath string, names []string) error {
	if err := os.MkdirAll(toolsDir, 0o755); err != nil {
		return fmt.Errorf("cannot create hook tools dir: %w", err)
	}
	for _, name := range names {
		if name == "" || name != filepath.Base(name) {
			return fmt.Errorf("cannot link hook tool %q: invalid name", name)
		}
		link := filepath.Join(toolsDir, name)
		if target, err := os.Readlink(link); err == nil && target == binaryPath {
			continue
		}
		if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cannot replace hook tool link %q: %w", link, err)
		}
		if err := os.Symlink(binaryPath, link); err != nil {
			return fmt.Errorf("cannot link hook tool %q: %w", name, err)
		}
	}
	return nil
}

// EnsureSymlinksShared is EnsureSymlinks for a directory several agents
// use at once (a machine's units): it holds an exclusive flock on
// toolsDir/.lock while it checks and links, so that no agent removes a
// link another just made. Once the links are right it only reads them.
func EnsureSymlinksShared(toolsDir, binaryPath string, names []string) error {
	if err := os.MkdirAll(toolsDir, 0o755); err != nil {
		return fmt.Errorf("cannot create hook tools dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(toolsDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("cannot lock hook tools dir: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("cannot lock hook tools dir: %w", err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return EnsureSymlinks(toolsDir, binaryPath, names)
}
