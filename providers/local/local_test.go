package local_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/providers"
	"github.com/troupe-dev/troupe/providers/local"
	"github.com/troupe-dev/troupe/providers/providertest"
)

// agentBin is the fake agent every test's provider starts, built once.
var agentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "troupe-local-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBin, err = providertest.BuildAgent(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newProvider returns a provider rooted in a fresh temp dir. Whatever the
// provider does, no agent of it outlives the test.
func newProvider(t *testing.T) *local.Provider {
	p := &local.Provider{Root: filepath.Join(t.TempDir(), "machines"), Agent: agentBin}
	t.Cleanup(func() {
		for _, pid := range agentPids(p.Root) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return p
}

var opts = providertest.Options{
	Agents: func(t *testing.T, p providers.Provider, inst providers.Instance) []string {
		var ids []string
		for _, pid := range agentPids(filepath.Join(p.(*local.Provider).Root, inst.ID)) {
			ids = append(ids, strconv.Itoa(pid))
		}
		return ids
	},
	ReadFile: func(t *testing.T, p providers.Provider, inst providers.Instance, name string) ([]byte, error) {
		return os.ReadFile(filepath.Join(p.(*local.Provider).Root, inst.ID, name))
	},
	InvalidNames: []string{"nul\x00byte"},
	KillAgent: func(t *testing.T, p providers.Provider, inst providers.Instance) {
		dir := filepath.Join(p.(*local.Provider).Root, inst.ID)
		for _, pid := range agentPids(dir) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(agentPids(dir)) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the agent of %q survived SIGKILL for 10s", inst.ID)
			}
			time.Sleep(20 * time.Millisecond)
		}
	},
}

func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) providers.Provider { return newProvider(t) }, opts)
}

// agentPids scans /proc for running (not zombie) processes whose command
// line has `--data-dir D` with D equal to or below dir: the agents, found
// without the provider's pid files.
func agentPids(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		i := slices.Index(args, "--data-dir")
		if i < 0 || i+1 >= len(args) || (args[i+1] != dir && !strings.HasPrefix(args[i+1], dir+"/")) {
			continue
		}
		if running(pid) {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndex(s, ")")
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}

func TestStopKillsAgentIgnoringSIGTERM(t *testing.T) {
	p := newProvider(t)
	p.StopGrace = 300 * time.Millisecond
	notes := filepath.Join(t.TempDir(), "sigterm-notes")
	inst, err := p.StartInstance(context.Background(), providers.InstanceConfig{
		Name:  "m-stubborn",
		Files: map[string][]byte{providertest.IgnoreSIGTERM: []byte(notes)},
	})
	if err != nil {
		t.Fatalf("StartInstance: %v", err)
	}
	rep := providertest.WaitAgent(t, opts, p, inst)
	if err := p.StopInstance(context.Background(), inst.ID); err != nil {
		t.Fatalf("StopInstance of an agent ignoring SIGTERM: %v", err)
	}
	if data, err := os.ReadFile(notes); err != nil || !strings.Contains(string(data), "SIGTERM ignored") {
		t.Errorf("the agent noted no SIGTERM (%q, %v): StopInstance must ask it to exit with SIGTERM first", data, err)
	}
	if running(rep.Pid) {
		t.Errorf("agent pid %d still runs after StopInstance returned: it must be SIGKILLed once the grace period is over", rep.Pid)
	}
	if _, err := os.Stat(filepath.Join(p.Root, inst.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("instance dir after StopInstance: %v, want it removed", err)
	}
}

func TestStopCancelledDuringGraceKillsAtOnce(t *testing.T) {
	p := newProvider(t)
	p.StopGrace = time.Hour
	inst, err := p.StartInstance(context.Background(), providers.InstanceConfig{
		Name:  "m-cancel",
		Files: map[string][]byte{providertest.IgnoreSIGTERM: nil},
	})
	if err != nil {
		t.Fatalf("StartInstance: %v", err)
	}
	rep := providertest.WaitAgent(t, opts, p, inst)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.StopInstance(ctx, inst.ID) }()
	// Cancel once the agent has seen (and ignored) SIGTERM, i.e. while
	// StopInstance waits out the grace period.
	waitFor(t, "the agent to note SIGTERM", func() bool {
		_, err := os.Stat(filepath.Join(p.Root, inst.ID, providertest.SIGTERMFile))
		return err == nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("StopInstance cancelled during the grace period = %v, want nil (the agent is killed and the instance removed)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("StopInstance still waits 30s after its ctx was cancelled: it must kill the agent at once")
	}
	if running(rep.Pid) {
		t.Errorf("agent pid %d still runs after a cancelled StopInstance returned", rep.Pid)
	}
	if _, err := os.Stat(filepath.Join(p.Root, inst.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("instance dir after a cancelled StopInstance: %v, want it removed", err)
	}
}

func TestStartRestartsDeadAgent(t *testing.T) {
	p := newProvider(t)
	cfg := providers.InstanceConfig{Name: "m-restart", Files: map[string][]byte{"agent.conf": []byte("v1")}}
	inst, err := p.StartInstance(context.Background(), cfg)
	if err != nil {
		t.Fatalf("StartInstance: %v", err)
	}
	first := providertest.WaitAgent(t, opts, p, inst)
	// Make the next report distinguishable, then kill the agent behind the
	// provider's back (as a crash or a host reboot would).
	if err := os.Remove(filepath.Join(p.Root, inst.ID, providertest.ReportFile)); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(first.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the killed agent to die", func() bool { return !running(first.Pid) })
	// Leave a file with a loose mode behind, as an older version might.
	if err := os.Chmod(filepath.Join(p.Root, inst.ID, "agent.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Files["agent.conf"] = []byte("v2")
	if _, err := p.StartInstance(context.Background(), cfg); err != nil {
		t.Fatalf("StartInstance of an instance whose agent died: %v", err)
	}
	if got := agentPids(filepath.Join(p.Root, inst.ID)); len(got) != 1 {
		t.Fatalf("after StartInstance of an instance whose agent died, agent processes are %v, want exactly 1 (a new one)", got)
	}
	second := providertest.WaitAgent(t, opts, p, inst)
	if second.Pid == first.Pid {
		t.Errorf("the restarted agent has the dead agent's pid %d", first.Pid)
	}
	if f := second.Files["agent.conf"]; f.Mode != "0600" {
		t.Errorf("the restarted agent saw agent.conf with mode %s, want 0600", f.Mode)
	}
	data, err := os.ReadFile(filepath.Join(p.Root, inst.ID, "agent.conf"))
	if err != nil || string(data) != "v2" {
		t.Errorf("agent.conf after restart = %q, %v; want the new content %q", data, err, "v2")
	}
}

// A pid file may name a process that is not the agent: the agent died and
// its pid was reused (after a reboot, say). The provider must neither take
// that process for the agent nor signal it.
func TestStalePidFileNamingAnotherProcess(t *testing.T) {
	p := newProvider(t)
	other := exec.Command("sleep", "600")
	other.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := other.Start(); err != nil {
		t.Fatalf("cannot start a bystander process: %v", err)
	}
	t.Cleanup(func() {
		other.Process.Kill()
		other.Wait()
	})
	dir := filepath.Join(p.Root, "m-stale")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "agent.pid"), []byte(strconv.Itoa(other.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	inst, err := p.StartInstance(context.Background(), providers.InstanceConfig{Name: "m-stale"})
	if err != nil {
		t.Fatalf("StartInstance: %v", err)
	}
	if got := agentPids(dir); len(got) != 1 {
		t.Errorf("StartInstance with a pid file naming another process left agent processes %v, want exactly 1: that process is not the agent", got)
	}
	if err := p.StopInstance(context.Background(), inst.ID); err != nil {
		t.Fatalf("StopInstance: %v", err)
	}
	if !running(other.Process.Pid) {
		t.Errorf("StopInstance killed pid %d, a process that was not the agent", other.Process.Pid)
	}
}

func TestFailedStartLeavesNothing(t *testing.T) {
	p := newProvider(t)
	p.Agent = filepath.Join(t.TempDir(), "no-such-agent")
	if inst, err := p.StartInstance(context.Background(), providers.InstanceConfig{Name: "m-fail", Files: map[string][]byte{"agent.conf": []byte("x")}}); err == nil {
		t.Fatalf("StartInstance with a missing agent binary succeeded: %+v", inst)
	}
	entries, err := os.ReadDir(p.Root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("a failed StartInstance left %v under the root, want nothing", entries)
	}
}

func TestReservedFileNamesRefused(t *testing.T) {
	for _, name := range []string{"agent.pid", "agent.log"} {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t)
			if inst, err := p.StartInstance(context.Background(), providers.InstanceConfig{Name: "m-reserved", Files: map[string][]byte{name: []byte("1")}}); err == nil {
				p.StopInstance(context.Background(), inst.ID)
				t.Fatalf("StartInstance with file %q succeeded, want an error: the provider keeps its own %s there", name, name)
			}
			if entries, _ := os.ReadDir(p.Root); len(entries) != 0 {
				t.Errorf("a refused StartInstance left %v under the root", entries)
			}
		})
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after 30s waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
