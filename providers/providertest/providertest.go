package providertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/providers"
)

// File names shared with the fake agent (fakeagent/main.go).
const (
	// IgnoreSIGTERM, as a key of InstanceConfig.Files, makes the fake
	// agent ignore SIGTERM: only SIGKILL stops it. It appends a line for
	// each SIGTERM to the file named by the content (an absolute path;
	// SIGTERMFile in its data dir when empty).
	IgnoreSIGTERM = "fakeagent-ignore-sigterm"
	// SIGTERMFile is where, by default, the fake agent notes each SIGTERM
	// it ignored.
	SIGTERMFile = "fakeagent.sigterm"
	// ReportFile is the fake agent's report, written once at start.
	ReportFile = "fakeagent.json"
)

// Options tells Run how to look at an instance without asking the
// provider.
type Options struct {
	// Agents returns one identity (e.g. a pid) for each process of inst's
	// agent running now; an exited (or zombie) agent is not running. It
	// must find them independently of the provider's bookkeeping, e.g. by
	// scanning the host's processes for the agent's command line.
	// Required.
	Agents func(t *testing.T, p providers.Provider, inst providers.Instance) []string
	// ReadFile reads the file name in inst's agent data dir, as the agent
	// sees it, without asking the provider. When the file or the whole
	// instance is gone the error wraps fs.ErrNotExist. Required.
	ReadFile func(t *testing.T, p providers.Provider, inst providers.Instance, name string) ([]byte, error)
	// InvalidNames are instance names this provider refuses on top of the
	// ones every provider refuses.
	InvalidNames []string
	// AgentTimeout bounds the wait for the fake agent's report after a
	// start; zero means 30s.
	AgentTimeout time.Duration
	// Concurrency is how many StartInstance calls the concurrency checks
	// run at once; zero means 6.
	Concurrency int
	// KillAgent kills every process of inst's agent (SIGKILL) without
	// asking the provider, and returns once none runs. Required.
	KillAgent func(t *testing.T, p providers.Provider, inst providers.Instance)
	// Hardware reads the limits actually applied to inst without asking
	// the provider (e.g. from the container's configuration). Nil for a
	// provider that enforces no constraint; then Instance.Hardware must
	// stay zero.
	Hardware func(t *testing.T, p providers.Provider, inst providers.Instance) providers.Constraints
}

// AgentReport is what the fake agent recorded when it started.
type AgentReport struct {
	// Pid is the agent's process id as it saw it.
	Pid int `json:"pid"`
	// Files maps each regular file of the data dir at start to its mode
	// ("0600") and SHA-256 (hex).
	Files map[string]struct {
		Mode   string `json:"mode"`
		SHA256 string `json:"sha256"`
	} `json:"files"`
}

// BuildAgent builds the fake agent into dir and returns the binary's path.
// It runs `go build`, so call it once (e.g. from TestMain).
func BuildAgent(dir string) (string, error) {
	bin := filepath.Join(dir, "fakeagent")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/troupe-dev/troupe/providers/providertest/fakeagent")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cannot build the fake agent: %v\n%s", err, out)
	}
	return bin, nil
}

// commonInvalidNames are refused by every provider (see
// providers.InstanceConfig.Name).
var commonInvalidNames = []string{"", ".", "..", "../escape", "a/b", "/abs", "dotted.name"}

// invalidFileNames are refused as keys of InstanceConfig.Files.
var invalidFileNames = []string{"", ".", "..", "../escape", "sub/file", "/abs"}

// notInstanceIDs can never name an instance; StopInstance answers
// ErrNotFound for them and touches nothing.
var notInstanceIDs = []string{"no-such-instance", "", ".", "..", "/", "../escape", "keep/..", "keep/../keep"}

// Run runs the conformance suite. newProvider returns a fresh provider
// with no instances, configured to start the agent BuildAgent built; it is
// called once per subtest and must clean up after itself with t.Cleanup.
func Run(t *testing.T, newProvider func(t *testing.T) providers.Provider, opts Options) {
	if opts.Agents == nil || opts.ReadFile == nil || opts.KillAgent == nil {
		t.Fatal("providertest.Options needs Agents, ReadFile and KillAgent: the suite checks the agent without asking the provider")
	}
	if opts.AgentTimeout == 0 {
		opts.AgentTimeout = 30 * time.Second
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 6
	}
	s := &suite{opts: opts, newProvider: newProvider}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"StartRunsAgentWithFiles", s.startRunsAgentWithFiles},
		{"StartIsIdempotent", s.startIsIdempotent},
		{"InstancesListsStarted", s.instancesListsStarted},
		{"StopRemovesInstanceAndAgent", s.stopRemovesInstanceAndAgent},
		{"StopTwiceIsNotFound", s.stopTwiceIsNotFound},
		{"StopUnknownIsNotFound", s.stopUnknownIsNotFound},
		{"InvalidNamesRefused", s.invalidNamesRefused},
		{"InvalidFileNamesRefused", s.invalidFileNamesRefused},
		{"ConcurrentDistinctNames", s.concurrentDistinctNames},
		{"ConcurrentSameName", s.concurrentSameName},
		{"CancelledContext", s.cancelledContext},
		{"AddressesReported", s.addressesReported},
		{"ConstraintsApplied", s.constraintsApplied},
		{"InvalidConstraintsRefused", s.invalidConstraintsRefused},
		{"StartRestartsDeadAgent", s.startRestartsDeadAgent},
	} {
		t.Run(tc.name, tc.run)
	}
}

type suite struct {
	opts        Options
	newProvider func(t *testing.T) providers.Provider
}

func (s *suite) startRunsAgentWithFiles(t *testing.T) {
	p := s.newProvider(t)
	files := map[string][]byte{"agent.conf": randomBytes(t), "extra.yaml": randomBytes(t), "empty": {}}
	inst := start(t, p, providers.InstanceConfig{Name: "m-files", Files: files})
	if inst.ID == "" {
		t.Fatalf("StartInstance returned an instance with an empty ID: %+v", inst)
	}
	if got := s.opts.Agents(t, p, inst); len(got) != 1 {
		t.Fatalf("after StartInstance returned, instance %q runs %d agent processes %v, want exactly 1", inst.ID, len(got), got)
	}
	rep := WaitAgent(t, s.opts, p, inst)
	for name, data := range files {
		seen, ok := rep.Files[name]
		if !ok {
			t.Errorf("agent did not see file %q in its data dir when it started (saw %v): files must be written before the agent starts", name, keys(rep.Files))
			continue
		}
		if seen.Mode != "0600" {
			t.Errorf("agent saw file %q with mode %s when it started, want 0600", name, seen.Mode)
		}
		if want := sha(data); seen.SHA256 != want {
			t.Errorf("agent saw file %q with SHA-256 %s when it started, want %s (the content given in InstanceConfig.Files)", name, seen.SHA256, want)
		}
		got, err := s.opts.ReadFile(t, p, inst, name)
		if err != nil {
			t.Errorf("cannot read file %q of the running instance: %v", name, err)
		} else if !bytes.Equal(got, data) {
			t.Errorf("file %q of the running instance holds %q, want %q", name, got, data)
		}
	}
}

func (s *suite) startIsIdempotent(t *testing.T) {
	p := s.newProvider(t)
	cfg := providers.InstanceConfig{Name: "m-idem", Files: map[string][]byte{"agent.conf": randomBytes(t)}}
	first := start(t, p, cfg)
	rep := WaitAgent(t, s.opts, p, first)
	before := s.opts.Agents(t, p, first)
	if len(before) != 1 {
		t.Fatalf("after the first StartInstance, instance %q runs agent processes %v, want exactly 1", first.ID, before)
	}
	second, err := p.StartInstance(context.Background(), cfg)
	if err != nil {
		t.Fatalf("second StartInstance(%q) of a running instance failed: %v (it must return the running instance)", cfg.Name, err)
	}
	if !reflect.DeepEqual(second, first) {
		t.Errorf("second StartInstance(%q) returned %+v, want the same instance %+v", cfg.Name, second, first)
	}
	if after := s.opts.Agents(t, p, second); !slices.Equal(after, before) {
		t.Errorf("second StartInstance(%q) changed the agent processes from %v to %v: it must start nothing new", cfg.Name, before, after)
	}
	if again := WaitAgent(t, s.opts, p, second); again.Pid != rep.Pid {
		t.Errorf("second StartInstance(%q) started a new agent (pid %d, was %d): it must start nothing new", cfg.Name, again.Pid, rep.Pid)
	}
	wantInstances(t, p, first.ID)
}

func (s *suite) instancesListsStarted(t *testing.T) {
	p := s.newProvider(t)
	wantInstances(t, p)
	a := start(t, p, providers.InstanceConfig{Name: "m-a"})
	b := start(t, p, providers.InstanceConfig{Name: "m-b"})
	if a.ID == b.ID {
		t.Fatalf("instances named m-a and m-b both have ID %q", a.ID)
	}
	wantInstances(t, p, a.ID, b.ID)
	if err := p.StopInstance(context.Background(), a.ID); err != nil {
		t.Fatalf("StopInstance(%q): %v", a.ID, err)
	}
	wantInstances(t, p, b.ID)
}

func (s *suite) stopRemovesInstanceAndAgent(t *testing.T) {
	p := s.newProvider(t)
	inst := start(t, p, providers.InstanceConfig{Name: "m-stop", Files: map[string][]byte{"agent.conf": randomBytes(t)}})
	WaitAgent(t, s.opts, p, inst)
	if err := p.StopInstance(context.Background(), inst.ID); err != nil {
		t.Fatalf("StopInstance(%q) of a running instance: %v", inst.ID, err)
	}
	if got := s.opts.Agents(t, p, inst); len(got) != 0 {
		t.Errorf("after StopInstance(%q) returned, its agent processes %v still run: StopInstance must stop the agent before returning", inst.ID, got)
	}
	if _, err := s.opts.ReadFile(t, p, inst, "agent.conf"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after StopInstance(%q), reading its agent.conf gave error %v, want one wrapping fs.ErrNotExist: the instance's data must be deleted", inst.ID, err)
	}
	wantInstances(t, p)
}

func (s *suite) stopTwiceIsNotFound(t *testing.T) {
	p := s.newProvider(t)
	inst := start(t, p, providers.InstanceConfig{Name: "m-twice"})
	if err := p.StopInstance(context.Background(), inst.ID); err != nil {
		t.Fatalf("first StopInstance(%q): %v", inst.ID, err)
	}
	if err := p.StopInstance(context.Background(), inst.ID); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("second StopInstance(%q) = %v, want an error wrapping providers.ErrNotFound", inst.ID, err)
	}
}

func (s *suite) stopUnknownIsNotFound(t *testing.T) {
	p := s.newProvider(t)
	keep := start(t, p, providers.InstanceConfig{Name: "keep", Files: map[string][]byte{"agent.conf": []byte("keep")}})
	WaitAgent(t, s.opts, p, keep)
	agents := s.opts.Agents(t, p, keep)
	for _, id := range notInstanceIDs {
		if err := p.StopInstance(context.Background(), id); !errors.Is(err, providers.ErrNotFound) {
			t.Errorf("StopInstance(%q) = %v, want an error wrapping providers.ErrNotFound", id, err)
		}
	}
	// None of those may have touched the instance that exists.
	if got := s.opts.Agents(t, p, keep); !slices.Equal(got, agents) {
		t.Errorf("StopInstance of unknown ids changed the agent processes of instance %q from %v to %v", keep.ID, agents, got)
	}
	if data, err := s.opts.ReadFile(t, p, keep, "agent.conf"); err != nil || string(data) != "keep" {
		t.Errorf("StopInstance of unknown ids damaged instance %q: reading its agent.conf gave %q, %v", keep.ID, data, err)
	}
	wantInstances(t, p, keep.ID)
}

func (s *suite) invalidNamesRefused(t *testing.T) {
	p := s.newProvider(t)
	for _, name := range append(slices.Clone(commonInvalidNames), s.opts.InvalidNames...) {
		inst, err := p.StartInstance(context.Background(), providers.InstanceConfig{Name: name, Files: map[string][]byte{"agent.conf": []byte("x")}})
		if err == nil {
			t.Errorf("StartInstance(%q) succeeded with %+v, want an error: the name is invalid", name, inst)
			stopQuietly(p, inst.ID)
		} else if !errors.Is(err, providers.ErrInvalid) {
			t.Errorf("StartInstance(%q) = %v, want an error wrapping providers.ErrInvalid", name, err)
		}
	}
	wantInstances(t, p)
}

func (s *suite) invalidFileNamesRefused(t *testing.T) {
	p := s.newProvider(t)
	for i, file := range invalidFileNames {
		name := fmt.Sprintf("m-file-%d", i)
		inst, err := p.StartInstance(context.Background(), providers.InstanceConfig{Name: name, Files: map[string][]byte{"agent.conf": []byte("x"), file: []byte("x")}})
		if err == nil {
			t.Errorf("StartInstance(%q) with file name %q succeeded with %+v, want an error: file names must be plain names", name, file, inst)
			stopQuietly(p, inst.ID)
		} else if !errors.Is(err, providers.ErrInvalid) {
			t.Errorf("StartInstance(%q) with file name %q = %v, want an error wrapping providers.ErrInvalid", name, file, err)
		}
	}
	wantInstances(t, p)
}

func (s *suite) concurrentDistinctNames(t *testing.T) {
	p := s.newProvider(t)
	insts := make([]providers.Instance, s.opts.Concurrency)
	errs := make([]error, s.opts.Concurrency)
	var wg sync.WaitGroup
	for i := range s.opts.Concurrency {
		wg.Go(func() {
			insts[i], errs[i] = p.StartInstance(context.Background(), providers.InstanceConfig{Name: fmt.Sprintf("m-conc-%d", i)})
		})
	}
	wg.Wait()
	var ids []string
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent StartInstance(m-conc-%d): %v", i, err)
			continue
		}
		t.Cleanup(func() { stopQuietly(p, insts[i].ID) })
		ids = append(ids, insts[i].ID)
		if got := s.opts.Agents(t, p, insts[i]); len(got) != 1 {
			t.Errorf("after concurrent starts, instance %q runs agent processes %v, want exactly 1", insts[i].ID, got)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	wantInstances(t, p, ids...)
	for i := range s.opts.Concurrency {
		wg.Go(func() { errs[i] = p.StopInstance(context.Background(), insts[i].ID) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent StopInstance(%q): %v", insts[i].ID, err)
		}
		if got := s.opts.Agents(t, p, insts[i]); len(got) != 0 {
			t.Errorf("after concurrent stops, instance %q still runs agent processes %v", insts[i].ID, got)
		}
	}
	wantInstances(t, p)
}

func (s *suite) concurrentSameName(t *testing.T) {
	p := s.newProvider(t)
	insts := make([]providers.Instance, s.opts.Concurrency)
	errs := make([]error, s.opts.Concurrency)
	var wg sync.WaitGroup
	for i := range s.opts.Concurrency {
		wg.Go(func() {
			insts[i], errs[i] = p.StartInstance(context.Background(), providers.InstanceConfig{Name: "m-same"})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent StartInstance(m-same) #%d: %v", i, err)
		}
	}
	t.Cleanup(func() { stopQuietly(p, insts[0].ID) })
	for i := range insts {
		if !reflect.DeepEqual(insts[i], insts[0]) {
			t.Errorf("concurrent StartInstance(m-same) returned %+v and %+v, want the same instance", insts[0], insts[i])
		}
	}
	if got := s.opts.Agents(t, p, insts[0]); len(got) != 1 {
		t.Errorf("after %d concurrent StartInstance(m-same), the instance runs agent processes %v, want exactly 1", s.opts.Concurrency, got)
	}
	wantInstances(t, p, insts[0].ID)
}

func (s *suite) cancelledContext(t *testing.T) {
	p := s.newProvider(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if inst, err := p.StartInstance(ctx, providers.InstanceConfig{Name: "m-cancelled"}); !errors.Is(err, context.Canceled) {
		t.Errorf("StartInstance with a cancelled ctx = %+v, %v; want an error wrapping context.Canceled", inst, err)
		stopQuietly(p, inst.ID)
	}
	wantInstances(t, p)

	inst := start(t, p, providers.InstanceConfig{Name: "m-live"})
	agents := s.opts.Agents(t, p, inst)
	if err := p.StopInstance(ctx, inst.ID); !errors.Is(err, context.Canceled) {
		t.Errorf("StopInstance(%q) with a cancelled ctx = %v, want an error wrapping context.Canceled", inst.ID, err)
	}
	if got := s.opts.Agents(t, p, inst); !slices.Equal(got, agents) {
		t.Errorf("StopInstance(%q) with a cancelled ctx changed its agent processes from %v to %v: it must change nothing", inst.ID, agents, got)
	}
	wantInstances(t, p, inst.ID)

	if got, err := p.Instances(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Instances with a cancelled ctx = %+v, %v; want an error wrapping context.Canceled", got, err)
	}
}

func (s *suite) addressesReported(t *testing.T) {
	p := s.newProvider(t)
	inst := start(t, p, providers.InstanceConfig{Name: "m-addr"})
	if len(inst.Addresses) == 0 {
		t.Fatalf("StartInstance returned %+v with no addresses: an instance is returned once it has its addresses", inst)
	}
	for _, a := range inst.Addresses {
		if net.ParseIP(a) == nil {
			t.Errorf("StartInstance returned address %q, want a bare IP address (no port, no name)", a)
		}
	}
	if inst.Hostname == "" {
		t.Errorf("StartInstance returned %+v with no hostname", inst)
	}
	list, err := p.Instances(context.Background())
	if err != nil {
		t.Fatalf("Instances: %v", err)
	}
	for _, in := range list {
		if in.ID == inst.ID && !slices.Equal(in.Addresses, inst.Addresses) {
			t.Errorf("Instances lists %q with addresses %v, StartInstance returned %v", in.ID, in.Addresses, inst.Addresses)
		}
	}
}

func (s *suite) constraintsApplied(t *testing.T) {
	p := s.newProvider(t)
	want := providers.Constraints{Cores: 1, MemoryMiB: 512}
	inst := start(t, p, providers.InstanceConfig{Name: "m-limits", Constraints: want})
	WaitAgent(t, s.opts, p, inst)
	if s.opts.Hardware == nil {
		if inst.Hardware != (providers.Constraints{}) {
			t.Errorf("StartInstance reported hardware %+v but the provider's test says it enforces no constraint", inst.Hardware)
		}
		return
	}
	if inst.Hardware != want {
		t.Errorf("StartInstance with constraints %+v reported hardware %+v, want the constraints it enforces", want, inst.Hardware)
	}
	if got := s.opts.Hardware(t, p, inst); got != want {
		t.Errorf("instance %q started with constraints %+v is limited to %+v", inst.ID, want, got)
	}
	// Without constraints, nothing is limited.
	free := start(t, p, providers.InstanceConfig{Name: "m-nolimits"})
	if got := s.opts.Hardware(t, p, free); got != (providers.Constraints{}) {
		t.Errorf("instance %q started without constraints is limited to %+v, want no limit", free.ID, got)
	}
}

func (s *suite) invalidConstraintsRefused(t *testing.T) {
	p := s.newProvider(t)
	for i, c := range []providers.Constraints{{Cores: -1}, {MemoryMiB: -1}} {
		name := fmt.Sprintf("m-badcons-%d", i)
		inst, err := p.StartInstance(context.Background(), providers.InstanceConfig{Name: name, Constraints: c})
		if err == nil {
			t.Errorf("StartInstance(%q) with constraints %+v succeeded with %+v, want an error wrapping providers.ErrInvalid", name, c, inst)
			stopQuietly(p, inst.ID)
		} else if !errors.Is(err, providers.ErrInvalid) {
			t.Errorf("StartInstance(%q) with constraints %+v = %v, want an error wrapping providers.ErrInvalid", name, c, err)
		}
	}
	wantInstances(t, p)
}

func (s *suite) startRestartsDeadAgent(t *testing.T) {
	p := s.newProvider(t)
	conf := randomBytes(t)
	cfg := providers.InstanceConfig{Name: "m-revive", Files: map[string][]byte{"agent.conf": conf}}
	inst := start(t, p, cfg)
	first := WaitAgent(t, s.opts, p, inst)
	s.opts.KillAgent(t, p, inst)
	// Only the name: the instance keeps the files it has.
	again, err := p.StartInstance(context.Background(), providers.InstanceConfig{Name: cfg.Name})
	if err != nil {
		t.Fatalf("StartInstance(%q) after its agent was killed: %v (it must start the agent again)", cfg.Name, err)
	}
	if again.ID != inst.ID {
		t.Errorf("StartInstance(%q) after its agent was killed returned instance %q, want %q", cfg.Name, again.ID, inst.ID)
	}
	deadline := time.Now().Add(s.opts.AgentTimeout)
	for {
		if got := s.opts.Agents(t, p, inst); len(got) == 1 {
			if rep := WaitAgent(t, s.opts, p, inst); rep.Pid != first.Pid {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after its agent was killed and StartInstance(%q) returned, no new agent runs within %v (agents %v)", cfg.Name, s.opts.AgentTimeout, s.opts.Agents(t, p, inst))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if data, err := s.opts.ReadFile(t, p, inst, "agent.conf"); err != nil || !bytes.Equal(data, conf) {
		t.Errorf("after the agent was restarted, agent.conf holds %q, %v; want the file it was started with", data, err)
	}
	wantInstances(t, p, inst.ID)
}

// start starts cfg, failing the test on error, and stops the instance when
// the test ends.
func start(t *testing.T, p providers.Provider, cfg providers.InstanceConfig) providers.Instance {
	t.Helper()
	inst, err := p.StartInstance(context.Background(), cfg)
	if err != nil {
		t.Fatalf("StartInstance(%q): %v", cfg.Name, err)
	}
	t.Cleanup(func() { stopQuietly(p, inst.ID) })
	return inst
}

// stopQuietly stops id if it names an instance, so a failing test leaves
// no agent behind.
func stopQuietly(p providers.Provider, id string) {
	if id != "" {
		_ = p.StopInstance(context.Background(), id)
	}
}

// WaitAgent waits for the fake agent of inst to write its report and
// returns it, failing the test after opts.AgentTimeout.
func WaitAgent(t *testing.T, opts Options, p providers.Provider, inst providers.Instance) AgentReport {
	t.Helper()
	timeout := opts.AgentTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		data, err := opts.ReadFile(t, p, inst, ReportFile)
		if err == nil {
			var rep AgentReport
			if err := json.Unmarshal(data, &rep); err != nil {
				t.Fatalf("the fake agent's report %s of instance %q is not JSON: %v", ReportFile, inst.ID, err)
			}
			return rep
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent of instance %q wrote no %s within %v (last error: %v): the provider must start the agent built by providertest.BuildAgent as `AGENT machine --data-dir DIR`; look at the agent's log",
				inst.ID, ReportFile, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantInstances checks that Instances lists exactly ids.
func wantInstances(t *testing.T, p providers.Provider, ids ...string) {
	t.Helper()
	list, err := p.Instances(context.Background())
	if err != nil {
		t.Fatalf("Instances: %v", err)
	}
	var got []string
	for _, inst := range list {
		got = append(got, inst.ID)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		t.Errorf("Instances lists %q, want %q", got, want)
	}
}

func randomBytes(t *testing.T) []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func keys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
