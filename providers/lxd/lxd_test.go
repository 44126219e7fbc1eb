package lxd_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	lxdclient "github.com/canonical/lxd/client"
	"github.com/canonical/lxd/shared/api"

	"github.com/troupe-dev/troupe/providers"
	"github.com/troupe-dev/troupe/providers/lxd"
	"github.com/troupe-dev/troupe/providers/providertest"
)

// agentBin is the fake agent, built statically once so it runs in the
// container whatever its libc.
var agentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "troupe-lxd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("CGO_ENABLED", "0")
	agentBin, err = providertest.BuildAgent(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	sweepEarlierRuns()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sweepEarlierRuns deletes the containers an interrupted earlier run of
// these tests left behind (tagged "test-…"): the conformance suite uses
// fixed instance names, which the provider refuses to take over from
// another tag. Two runs of this package at once on one LXD are not
// supported.
func sweepEarlierRuns() {
	c, err := lxdclient.ConnectLXDUnix("", nil)
	if err != nil {
		return // the tests themselves say how to set LXD up
	}
	list, err := c.GetInstances(api.InstanceTypeContainer)
	if err != nil {
		return
	}
	for _, in := range list {
		if !strings.HasPrefix(in.Config[lxd.TagKey], "test-") {
			continue
		}
		fmt.Fprintf(os.Stderr, "deleting container %s left by an earlier test run\n", in.Name)
		if op, err := c.UpdateInstanceState(in.Name, apiStop(), ""); err == nil {
			_ = op.Wait()
		}
		if op, err := c.DeleteInstance(in.Name); err == nil {
			_ = op.Wait()
		}
	}
}

// lxdServer connects to the local LXD the way the tests look at it, apart
// from the provider; a test needing LXD fails (never skips) without it.
func lxdServer(t *testing.T) lxdclient.InstanceServer {
	t.Helper()
	c, err := lxdclient.ConnectLXDUnix("", nil)
	if err != nil {
		t.Fatalf("these tests need a running LXD with the Troupe image (socket %s): %v\nSet it up as root with: scripts/lxd/setup.sh && make lxd-image", lxd.SocketPath(""), err)
	}
	if _, _, err := c.GetImageAlias(lxd.DefaultImage); err != nil {
		t.Fatalf("LXD has no image %q (%v): build it as root with `make lxd-image`", lxd.DefaultImage, err)
	}
	return c
}

func randomTag(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "test-" + hex.EncodeToString(b)
}

func newProvider(t *testing.T) *lxd.Provider {
	c := lxdServer(t)
	tag := randomTag(t)
	p := lxd.New(lxd.Config{Agent: agentBin, Tag: tag, StopTimeout: 3 * time.Second})
	t.Cleanup(func() { deleteTagged(t, c, tag) })
	return p
}

// deleteTagged removes every container carrying tag, so a failed test
// leaves nothing behind.
func deleteTagged(t *testing.T, c lxdclient.InstanceServer, tag string) {
	list, err := c.GetInstances("container")
	if err != nil {
		t.Logf("cleanup: cannot list containers: %v", err)
		return
	}
	for _, in := range list {
		if in.Config[lxd.TagKey] != tag {
			continue
		}
		if op, err := c.UpdateInstanceState(in.Name, apiStop(), ""); err == nil {
			_ = op.Wait()
		}
		if op, err := c.DeleteInstance(in.Name); err == nil {
			_ = op.Wait()
		}
	}
}

func apiStop() api.InstanceStatePut {
	return api.InstanceStatePut{Action: "stop", Force: true, Timeout: -1}
}

// agentPids finds the agent processes of container name from the host:
// the agent's command line in a process of that container's cgroup.
func agentPids(name string) []int {
	entries, _ := os.ReadDir("/proc")
	want := "machine\x00--data-dir\x00" + lxd.AgentDir + "\x00"
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.HasSuffix(string(cmdline), want) {
			continue
		}
		cg, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if err != nil || !inContainer(string(cg), name) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			s := string(stat)
			if i := strings.LastIndex(s, ")"); i > 0 && i+2 < len(s) && s[i+2] == 'Z' {
				continue
			}
		}
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	return pids
}

func inContainer(cgroup, name string) bool {
	for line := range strings.SplitSeq(cgroup, "\n") {
		if strings.Contains(line, "/lxc.payload."+name+"/") || strings.HasSuffix(line, "/lxc.payload."+name) {
			return true
		}
	}
	return false
}

var opts = providertest.Options{
	Agents: func(t *testing.T, p providers.Provider, inst providers.Instance) []string {
		var ids []string
		for _, pid := range agentPids(lxd.ContainerName(inst.ID)) {
			ids = append(ids, strconv.Itoa(pid))
		}
		return ids
	},
	ReadFile: func(t *testing.T, p providers.Provider, inst providers.Instance, name string) ([]byte, error) {
		// The dir storage backend keeps the rootfs on the host.
		return os.ReadFile(filepath.Join("/var/lib/lxd/containers", lxd.ContainerName(inst.ID), "rootfs", lxd.AgentDir, name))
	},
	KillAgent: func(t *testing.T, p providers.Provider, inst providers.Instance) {
		cn := lxd.ContainerName(inst.ID)
		pids := agentPids(cn)
		if len(pids) == 0 {
			t.Fatalf("instance %q runs no agent to kill", inst.ID)
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			left := slices.DeleteFunc(agentPids(cn), func(pid int) bool { return !slices.Contains(pids, pid) })
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("agent processes %v of %q survived SIGKILL for 10s", left, inst.ID)
			}
			time.Sleep(20 * time.Millisecond)
		}
	},
	Hardware: func(t *testing.T, p providers.Provider, inst providers.Instance) providers.Constraints {
		c := lxdServer(t)
		in, _, err := c.GetInstance(lxd.ContainerName(inst.ID))
		if err != nil {
			t.Fatalf("cannot read container %q: %v", inst.ID, err)
		}
		var h providers.Constraints
		if v := in.Config["limits.cpu"]; v != "" {
			h.Cores, err = strconv.Atoi(v)
			if err != nil {
				t.Fatalf("container %q has limits.cpu %q, want a core count", inst.ID, v)
			}
		}
		if v := in.Config["limits.memory"]; v != "" {
			mem, ok := strings.CutSuffix(v, "MiB")
			n, err := strconv.Atoi(mem)
			if !ok || err != nil {
				t.Fatalf("container %q has limits.memory %q, want N MiB", inst.ID, v)
			}
			h.MemoryMiB = n
		}
		return h
	},
	InvalidNames: []string{"-lead", "trail-", "UPPER", "12345", strings.Repeat("x", providers.MaxNameLength+1)},
	AgentTimeout: 60 * time.Second,
	// Each container copies the image's rootfs (dir pool): keep it small.
	Concurrency: 3,
}

func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) providers.Provider { return newProvider(t) }, opts)
}

func TestUnreachableSocketIsUnavailable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "no-lxd.socket")
	p := lxd.New(lxd.Config{Socket: sock, Agent: agentBin, Tag: randomTag(t)})
	_, err := p.StartInstance(context.Background(), providers.InstanceConfig{Name: "m-nolxd"})
	if !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("StartInstance with LXD unreachable = %v, want an error wrapping ErrUnavailable", err)
	}
	for _, want := range []string{sock, "scripts/lxd/setup.sh"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q: it must name the socket and how to set LXD up", err, want)
		}
	}
	if err := p.Check(context.Background()); !errors.Is(err, providers.ErrUnavailable) || !strings.Contains(err.Error(), sock) {
		t.Errorf("Check with LXD unreachable = %v, want ErrUnavailable naming %s", err, sock)
	}
	if _, err := p.Instances(context.Background()); !errors.Is(err, providers.ErrUnavailable) {
		t.Errorf("Instances with LXD unreachable = %v, want ErrUnavailable", err)
	}
}

func TestMissingImageIsUnavailable(t *testing.T) {
	c := lxdServer(t)
	tag := randomTag(t)
	t.Cleanup(func() { deleteTagged(t, c, tag) })
	p := lxd.New(lxd.Config{Image: "troupe/no-such-image", Agent: agentBin, Tag: tag})
	_, err := p.StartInstance(context.Background(), providers.InstanceConfig{Name: "m-noimage-" + tag[5:]})
	if !errors.Is(err, providers.ErrUnavailable) || !strings.Contains(err.Error(), "make lxd-image") {
		t.Fatalf("StartInstance without the image = %v, want ErrUnavailable saying to run make lxd-image", err)
	}
	if list, err := p.Instances(context.Background()); err != nil || len(list) != 0 {
		t.Errorf("after a failed start, Instances = %v, %v; want none", list, err)
	}
}

func TestBridgeAddress(t *testing.T) {
	c := lxdServer(t)
	n, _, err := c.GetNetwork("lxdbr0")
	if err != nil {
		t.Fatalf("cannot read lxdbr0: %v", err)
	}
	p := lxd.New(lxd.Config{Agent: agentBin, Tag: randomTag(t)})
	got, err := p.BridgeAddress(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want, _, _ := strings.Cut(n.Config["ipv4.address"], "/"); got != want {
		t.Errorf("BridgeAddress = %q, want %q", got, want)
	}
}

// TestEnsureRunningLeaksNoGoroutine: starting an instance that already
// runs (what the provisioner does on every pass for every machine) runs
// `systemctl start` in the container and leaves no goroutine behind.
func TestEnsureRunningLeaksNoGoroutine(t *testing.T) {
	p := newProvider(t)
	ctx := context.Background()
	cfg := providers.InstanceConfig{Name: "leak-" + strconv.Itoa(os.Getpid()%100000)}
	if _, err := p.StartInstance(ctx, cfg); err != nil {
		t.Fatalf("StartInstance: %v", err)
	}
	if _, err := p.StartInstance(ctx, cfg); err != nil { // the connection and its pool warm
		t.Fatalf("StartInstance again: %v", err)
	}
	before := runtime.NumGoroutine()
	const calls = 20
	for i := 0; i < calls; i++ {
		if _, err := p.StartInstance(ctx, cfg); err != nil {
			t.Fatalf("StartInstance of a running instance, call %d: %v", i, err)
		}
	}
	var after int
	for deadline := time.Now().Add(10 * time.Second); ; {
		if after = runtime.NumGoroutine(); after-before < calls/2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if after-before >= calls/2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before %d StartInstance calls on a running instance, %d after:\n%s", before, calls, after, buf[:runtime.Stack(buf, true)])
	}
}
