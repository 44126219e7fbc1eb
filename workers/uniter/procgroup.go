package uniter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/troupe-dev/troupe/internal/atomicfile"
)

// Hook, action and exec processes run in a process group of their own,
// whose id is recorded in state/running.pgid while they run:
//
//   - when the agent stops a running hook (its context is cancelled) the
//     whole group is killed, not only the first process;
//   - when the agent was SIGKILLed mid-hook, the next uniter start kills
//     the group it finds recorded before it re-runs the hook, so an
//     orphaned run can never overlap its re-run (or another unit's hook:
//     the machine lock died with the old agent).
//
// A hook that completes normally removes the record, so daemons a hook
// started on purpose are never touched.

func (u *Uniter) pgidFile() string { return filepath.Join(u.cfg.UnitDir, "state", "running.pgid") }

// runInGroup runs cmd in its own process group, recorded while it runs.
// A charm with containers gets its private /charm/containers
// (workload.go) on the way.
func (u *Uniter) runInGroup(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := u.wrapForContainers(cmd); err != nil {
		return fmt.Errorf("cannot prepare the charm's containers: %w", err)
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		return err
	}
	// Not fsynced: the record matters after the agent was killed, which
	// keeps the page cache; after a machine crash the group is gone too.
	// (Two fsyncs here were a third of an empty hook's time.)
	if err := atomicfile.Replace(u.pgidFile(), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		u.cfg.Logger.Warn("cannot record the hook's process group", "unit", u.cfg.Unit, "err", err)
	}
	err := cmd.Wait()
	if rerr := os.Remove(u.pgidFile()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		u.cfg.Logger.Warn("cannot clear the hook's process group record", "unit", u.cfg.Unit, "err", rerr)
	}
	return err
}

// killOrphans kills the process group of a hook an earlier incarnation of
// the agent was running when it died.
func (u *Uniter) killOrphans() {
	data, err := os.ReadFile(u.pgidFile())
	if err != nil {
		return
	}
	if pgid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pgid > 1 {
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err == nil {
			u.cfg.Logger.Info("killed the processes of an interrupted hook", "unit", u.cfg.Unit, "pgid", pgid)
		}
	}
	os.Remove(u.pgidFile())
}
