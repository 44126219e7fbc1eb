// Package agentlock makes sure at most one agent process runs in an agent
// data directory. Two machine agents on one directory would run every
// unit's hooks twice; the lock (flock on <dir>/agent.lock, released by the
// kernel when the holder dies, SIGKILL included) makes the second one
// exit at once.
//
// The holder records its pid in the lock file and in agent.pid, and a
// process that finds the lock held writes the holder's pid back into
// agent.pid before it exits: whoever started the loser (the local
// provider records the pid of what it started) then sees the agent that
// really runs.
//
// Who imports it: cmd/trouped (machine personality). No goroutines.
package agentlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Files in the agent's data directory.
const (
	LockFile = "agent.lock"
	PidFile  = "agent.pid"
)

// HeldError is returned by Acquire when another process holds the lock.
type HeldError struct {
	Dir string
	Pid int // the holder, 0 when unknown
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("another agent (pid %d) already runs in %s; stop it first", e.Pid, e.Dir)
}

// Acquire takes dir's agent lock for this process and records its pid.
// The returned release drops it (the kernel also does at exit).
func Acquire(dir string) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open agent lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("cannot lock %s: %w", f.Name(), err)
		}
		held := &HeldError{Dir: dir}
		if data, rerr := os.ReadFile(f.Name()); rerr == nil {
			held.Pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		}
		if held.Pid > 0 {
			// Best effort: point agent.pid back at the running agent.
			os.WriteFile(filepath.Join(dir, PidFile), []byte(strconv.Itoa(held.Pid)), 0o600)
		}
		return nil, held
	}
	pid := []byte(strconv.Itoa(os.Getpid()))
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(pid, 0)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, PidFile), pid, 0o600)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot record agent pid: %w", err)
	}
	return func() { f.Close() }, nil
}
