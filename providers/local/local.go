// Package local is the embedded default provider: an instance is a
// directory under Root plus a detached `trouped machine` process running
// in it. Nothing outside Root is touched.
package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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

	mu sync.Mutex // serialises start/stop of instances
}

var _ providers.Provider = (*Provider)(nil)

const pidFile = "agent.pid"

// StartInstance implements providers.Provider.
func (p *Provider) StartInstance(ctx context.Context, cfg providers.InstanceConfig) (providers.Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cfg.Name == "" || strings.ContainsAny(cfg.Name, "/.") {
		return providers.Instance{}, fmt.Errorf("invalid instance name %q", cfg.Name)
	}
	dir := filepath.Join(p.Root, cfg.Name)
	inst := providers.Instance{ID: cfg.Name, Hostname: hostname(), Addresses: []string{"127.0.0.1"}}
	if pid, ok := readPid(dir); ok && alive(pid) {
		return inst, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return inst, fmt.Errorf("cannot create instance dir: %w", err)
	}
	for name, data := range cfg.Files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return inst, fmt.Errorf("cannot write %s: %w", name, err)
		}
	}
	logf, err := os.OpenFile(filepath.Join(dir, "agent.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return inst, err
	}
	defer logf.Close()
	cmd := exec.Command(p.Agent, "machine", "--data-dir", dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return inst, fmt.Errorf("cannot start machine agent: %w", err)
	}
	pid := cmd.Process.Pid
	// Reap the child if it exits while we live; the agent is otherwise
	// independent of the controller process.
	go cmd.Wait() //nolint: owned by the OS process lifetime
	if err := os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(pid)), 0o600); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return inst, err
	}
	return inst, nil
}

// StopInstance implements providers.Provider.
func (p *Provider) StopInstance(ctx context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	dir := filepath.Join(p.Root, id)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return providers.ErrNotFound
	}
	if pid, ok := readPid(dir); ok {
		Terminate(pid, 5*time.Second)
	}
	return os.RemoveAll(dir)
}

// Instances implements providers.Provider.
func (p *Provider) Instances(ctx context.Context) ([]providers.Instance, error) {
	entries, err := os.ReadDir(p.Root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []providers.Instance
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, providers.Instance{ID: e.Name(), Hostname: hostname(), Addresses: []string{"127.0.0.1"}})
		}
	}
	return out, nil
}

func readPid(dir string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid, err == nil && pid > 0
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// Terminate sends SIGTERM to pid's process group, waits up to grace for it
// to exit, then SIGKILLs it.
func Terminate(pid int, grace time.Duration) {
	syscall.Kill(-pid, syscall.SIGTERM)
	syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !alive(pid) || zombie(pid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	syscall.Kill(pid, syscall.SIGKILL)
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
