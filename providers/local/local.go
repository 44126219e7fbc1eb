// Package local is the embedded default provider: an instance is a
// directory under Root plus a detached `trouped machine` process running
// in it. Nothing outside Root is touched. Every agent shares the host, so
// constraints are accepted and not enforced (Instance.Hardware stays zero).
package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/troupe-dev/troupe/providers"
)

// Provider starts machine agents as local processes.
type Provider struct {
	// Root holds one directory per instance.
	Root string
	// Agent is the trouped binary.
	Agent string
	// StopGrace is how long StopInstance waits for the agent to exit after
	// SIGTERM before it SIGKILLs it; zero means 5s.
	StopGrace time.Duration

	names providers.NameLocks // serialises Start and Stop per instance name
}

var _ providers.Provider = (*Provider)(nil)

// Files the provider keeps in an instance dir; InstanceConfig.Files may not
// use these names.
const (
	pidFile = "agent.pid"
	logFile = "agent.log"
)

const defaultStopGrace = 5 * time.Second

// StartInstance implements providers.Provider.
func (p *Provider) StartInstance(ctx context.Context, cfg providers.InstanceConfig) (providers.Instance, error) {
	if !validName(cfg.Name) {
		return providers.Instance{}, fmt.Errorf("%w: instance name %q: use lowercase letters, digits and hyphens", providers.ErrInvalid, cfg.Name)
	}
	for name := range cfg.Files {
		if !validFileName(name) {
			return providers.Instance{}, fmt.Errorf("%w: cannot start instance %q: file name %q (a plain name other than %s and %s)", providers.ErrInvalid, cfg.Name, name, pidFile, logFile)
		}
	}
	if c := cfg.Constraints; c.Cores < 0 || c.MemoryMiB < 0 {
		return providers.Instance{}, fmt.Errorf("%w: cannot start instance %q: negative constraint (cores %d, memory %d MiB)", providers.ErrInvalid, cfg.Name, c.Cores, c.MemoryMiB)
	}
	unlock, err := p.names.Lock(ctx, cfg.Name)
	if err != nil {
		return providers.Instance{}, fmt.Errorf("cannot start instance %q: %w", cfg.Name, err)
	}
	defer unlock()
	dir := filepath.Join(p.Root, cfg.Name)
	inst := providers.Instance{ID: cfg.Name, Hostname: hostname(), Addresses: []string{"127.0.0.1"}}
	if _, ok := p.agentPid(dir); ok {
		return inst, nil
	}
	created := false
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		created = true
	}
	if err := p.startLocked(dir, cfg); err != nil {
		if created {
			os.RemoveAll(dir)
		}
		return providers.Instance{}, fmt.Errorf("cannot start instance %q: %w", cfg.Name, err)
	}
	return inst, nil
}

// startLocked writes cfg's files into dir and starts the agent there.
func (p *Provider) startLocked(dir string, cfg providers.InstanceConfig) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create instance dir: %w", err)
	}
	for name, data := range cfg.Files {
		if err := writeFile(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	logf, err := os.OpenFile(filepath.Join(dir, logFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open agent log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(p.Agent, agentArgs(dir)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start machine agent: %w", err)
	}
	pid := cmd.Process.Pid
	// Reap the child if it exits while we live; the agent is otherwise
	// independent of the controller process.
	go cmd.Wait() //nolint: owned by the OS process lifetime
	if err := os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(pid)), 0o600); err != nil {
		terminate(context.Background(), pid, 0)
		return fmt.Errorf("cannot record agent pid: %w", err)
	}
	return nil
}

// writeFile writes data to path with mode 0600, whatever mode an existing
// file had.
func writeFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", filepath.Base(path), err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// StopInstance implements providers.Provider.
func (p *Provider) StopInstance(ctx context.Context, id string) error {
	if !validName(id) {
		return providers.ErrNotFound
	}
	unlock, err := p.names.Lock(ctx, id)
	if err != nil {
		return fmt.Errorf("cannot stop instance %q: %w", id, err)
	}
	defer unlock()
	dir := filepath.Join(p.Root, id)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return providers.ErrNotFound
	}
	if pid, ok := p.agentPid(dir); ok {
		grace := p.StopGrace
		if grace == 0 {
			grace = defaultStopGrace
		}
		terminate(ctx, pid, grace)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("cannot remove instance %q: %w", id, err)
	}
	return nil
}

// Instances implements providers.Provider.
func (p *Provider) Instances(ctx context.Context) ([]providers.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cannot list instances: %w", err)
	}
	entries, err := os.ReadDir(p.Root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot list instances: %w", err)
	}
	var out []providers.Instance
	for _, e := range entries {
		if e.IsDir() && validName(e.Name()) {
			out = append(out, providers.Instance{ID: e.Name(), Hostname: hostname(), Addresses: []string{"127.0.0.1"}})
		}
	}
	return out, nil
}

// validName reports whether name can name an instance: a single path
// element without dots.
func validName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "/.\x00")
}

// validFileName reports whether name can name a file of
// InstanceConfig.Files: a single path element the provider does not keep
// for itself.
func validFileName(name string) bool {
	switch name {
	case "", ".", "..", pidFile, logFile:
		return false
	}
	return !strings.ContainsAny(name, "/\x00")
}

func agentArgs(dir string) []string { return []string{"machine", "--data-dir", dir} }

// agentPid returns the pid recorded in dir if that process runs and is
// this instance's agent; a pid reused by another process does not count.
func (p *Provider) agentPid(dir string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 || !alive(pid) {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0, false
	}
	want := []byte(strings.Join(agentArgs(dir), "\x00") + "\x00")
	return pid, bytes.HasSuffix(cmdline, want)
}

// alive reports whether pid exists and has not exited (a zombie has).
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil && !zombie(pid) }

// Terminate sends SIGTERM to pid's process group, waits up to grace for it
// to exit, then SIGKILLs it and waits for it to die.
func Terminate(pid int, grace time.Duration) {
	terminate(context.Background(), pid, grace)
}

// terminate is Terminate that SIGKILLs at once when ctx is done.
func terminate(ctx context.Context, pid int, grace time.Duration) {
	syscall.Kill(-pid, syscall.SIGTERM)
	syscall.Kill(pid, syscall.SIGTERM)
	if waitExit(ctx, pid, grace) {
		return
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	syscall.Kill(pid, syscall.SIGKILL)
	// SIGKILL cannot be caught, but delivery is not instant.
	waitExit(context.Background(), pid, 5*time.Second)
}

// waitExit waits up to d for pid to exit and reports whether it did.
func waitExit(ctx context.Context, pid int, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for alive(pid) {
		select {
		case <-tick.C:
		case <-t.C:
			return !alive(pid)
		case <-ctx.Done():
			return !alive(pid)
		}
	}
	return true
}

func zombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndex(s, ")")
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
