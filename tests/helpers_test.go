package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Command time limits. Generous: the machine is small and shared.
const (
	bootstrapTimeout = 3 * time.Minute
	commandTimeout   = 2 * time.Minute
)

var (
	buildOnce sync.Once
	binDir    string // where the built binaries are; removed by TestMain
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// repoRoot returns the repository's root directory (the parent of tests/).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("cannot find the repository root above tests/: %v", err)
	}
	return root
}

// buildBinaries builds troupe, trouped and hooktool side by side into one
// directory, once per test binary run, and returns that directory.
func buildBinaries(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "troupe-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		// Exactly as `make build` builds them (static Go binaries, the
		// native hook tool client, pebble from the pinned tool module):
		// trouped and hooktool also run inside LXD containers.
		cmd := exec.Command("make", "--no-print-directory", "build", "BIN="+dir)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("cannot build the binaries (make build BIN=%s): %v\n%s", dir, err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// env is one isolated Troupe installation: its own TROUPE_HOME, the built
// binaries, and a scratch directory for command output.
type env struct {
	t      *testing.T
	home   string // TROUPE_HOME
	bin    string // directory holding troupe, trouped, hooktool
	root   string // repository root; commands run here
	outDir string // captured stdout/stderr of commands
}

// newEnv returns a fresh installation. When the test ends, every process
// whose command line or environment mentions its TROUPE_HOME is killed, and,
// if the test failed, the tail of every log under TROUPE_HOME is printed.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{
		t:    t,
		bin:  buildBinaries(t),
		root: repoRoot(t),
		// Short on purpose: agents put unix sockets under TROUPE_HOME and
		// socket paths are limited to 108 bytes.
		home:   t.TempDir(),
		outDir: t.TempDir(),
	}
	// Cleanups run last-registered first: dump logs, then kill, then the
	// temporary directories are removed.
	t.Cleanup(func() { killLeftovers(t, e.home) })
	t.Cleanup(func() {
		if t.Failed() {
			e.dumpLogs()
		}
	})
	return e
}

// result is what one command did.
type result struct {
	args   []string
	stdout string
	stderr string
	code   int   // exit code; -1 when it did not exit normally
	err    error // non-nil when the command could not be run or timed out
}

func (r result) String() string {
	return fmt.Sprintf("troupe %s: exit %d, err %v\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.args, " "), r.code, r.err, r.stdout, r.stderr)
}

// troupe runs the CLI with TROUPE_HOME set, from the repository root.
func (e *env) troupe(timeout time.Duration, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(e.bin, "troupe"), args...)
	cmd.Dir = e.root
	cmd.Env = e.environ()
	// Files, not pipes: a daemon the command leaves behind may inherit
	// them, and Wait would then block on a pipe until the daemon exits.
	stdout, err := os.CreateTemp(e.outDir, "stdout-")
	if err != nil {
		e.t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.CreateTemp(e.outDir, "stderr-")
	if err != nil {
		e.t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	runErr := cmd.Run()
	r := result{args: args, code: -1}
	if cmd.ProcessState != nil {
		r.code = cmd.ProcessState.ExitCode()
	}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		r.err = runErr
	}
	if ctx.Err() != nil {
		r.err = fmt.Errorf("timed out after %v", timeout)
	}
	r.stdout = readFile(e.t, stdout.Name())
	r.stderr = readFile(e.t, stderr.Name())
	return r
}

// mustTroupe runs the CLI and fails the test unless it exits 0.
func (e *env) mustTroupe(timeout time.Duration, args ...string) result {
	e.t.Helper()
	r := e.troupe(timeout, args...)
	if r.err != nil || r.code != 0 {
		e.t.Fatalf("command failed: %s", r)
	}
	return r
}

func (e *env) environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TROUPE_HOME=") {
			out = append(out, kv)
		}
	}
	return append(out, "TROUPE_HOME="+e.home)
}

// statusDoc mirrors the parts of `troupe status --format=json` the tests
// read, under Juju's key names.
type statusDoc struct {
	Machines     map[string]machineStatus `json:"machines"`
	Applications map[string]appStatus     `json:"applications"`
}

type statusInfo struct {
	Current string `json:"current"`
	Message string `json:"message"`
}

type appStatus struct {
	Charm     string                  `json:"charm"`
	Units     map[string]unitStatus   `json:"units"`
	Relations map[string][]relatedApp `json:"relations"`
}

type relatedApp struct {
	RelatedApplication string `json:"related-application"`
	Interface          string `json:"interface"`
	Scope              string `json:"scope"`
}

type unitStatus struct {
	WorkloadStatus statusInfo `json:"workload-status"`
	JujuStatus     statusInfo `json:"juju-status"`
	Leader         bool       `json:"leader"`
	Machine        string     `json:"machine"`
	OpenPorts      []string   `json:"open-ports"`
}

type machineStatus struct {
	JujuStatus statusInfo `json:"juju-status"`
}

// status runs `troupe status --format=json` and parses it; raw is the output
// for messages.
func (e *env) status() (doc statusDoc, raw string, err error) {
	e.t.Helper()
	r := e.troupe(commandTimeout, "status", "--format=json")
	if r.err != nil || r.code != 0 {
		return doc, r.String(), fmt.Errorf("status failed: exit %d, %v: %s", r.code, r.err, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		return doc, r.stdout, fmt.Errorf("status output is not the expected JSON: %v", err)
	}
	return doc, r.stdout, nil
}

// summary renders what must not change when a command is rejected: the
// applications, their units with status, leadership and machine, and the
// machines. Timestamps are left out.
func summary(doc statusDoc) string {
	var lines []string
	for name, app := range doc.Applications {
		lines = append(lines, fmt.Sprintf("application %s charm=%s units=%d", name, app.Charm, len(app.Units)))
		for u, st := range app.Units {
			lines = append(lines, fmt.Sprintf("unit %s workload=%s/%q agent=%s leader=%v machine=%s",
				u, st.WorkloadStatus.Current, st.WorkloadStatus.Message, st.JujuStatus.Current, st.Leader, st.Machine))
		}
	}
	for id := range doc.Machines {
		lines = append(lines, "machine "+id)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// freePort returns a TCP port on the loopback interface that was free a
// moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// findFiles returns the paths under root of every regular file called name.
func findFiles(t *testing.T, root, name string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// Agents create and remove files while we walk; skip those.
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() && d.Name() == name {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("cannot search %s for %s: %v", root, name, err)
	}
	sort.Strings(found)
	return found
}

// readLines returns the non-empty lines of a file.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(readFile(t, path), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read %s: %v", path, err)
	}
	return string(data)
}

// dumpLogs prints the last lines of every *.log file and every hook ledger
// under TROUPE_HOME.
func (e *env) dumpLogs() {
	const tailLines = 60
	_ = filepath.WalkDir(e.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if !strings.HasSuffix(d.Name(), ".log") && d.Name() != "hook-ledger" {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return nil
		}
		defer f.Close()
		var lines []string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if len(lines) > tailLines {
				lines = lines[1:]
			}
		}
		e.t.Logf("==== tail of %s ====\n%s", path, strings.Join(lines, "\n"))
		return nil
	})
}

// processesMentioning returns the pids of processes (other than this one)
// whose command line contains s, or, with env set, whose environment does.
func processesMentioning(s string, env bool) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		files := []string{"cmdline"}
		if env {
			files = append(files, "environ")
		}
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join("/proc", ent.Name(), f))
			if err == nil && bytes.Contains(data, []byte(s)) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// waitNoProcesses waits up to limit for no process's command line to mention
// s, and returns the command lines of those still running.
func waitNoProcesses(s string, limit time.Duration) []string {
	deadline := time.Now().Add(limit)
	for {
		pids := processesMentioning(s, false)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			var cmds []string
			for _, pid := range pids {
				data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				cmds = append(cmds, fmt.Sprintf("pid %d: %s", pid, strings.ReplaceAll(string(data), "\x00", " ")))
			}
			return cmds
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// killLeftovers SIGKILLs every process that mentions home in its command
// line or environment, and waits briefly for them to go so that the
// temporary directory can be removed.
func killLeftovers(t *testing.T, home string) {
	for round := 0; round < 50; round++ {
		pids := processesMentioning(home, true)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			if round == 0 {
				t.Logf("killing leftover process %d", pid)
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("processes mentioning %s survived SIGKILL: %v", home, processesMentioning(home, true))
}

// appsReady is a waitFor condition: each application has exactly the
// given number of units, every one workload active and agent idle.
func appsReady(want map[string]int) func(statusDoc) bool {
	return func(doc statusDoc) bool {
		for app, n := range want {
			units := doc.Applications[app].Units
			if len(units) != n {
				return false
			}
			for _, u := range units {
				if u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" {
					return false
				}
			}
		}
		return true
	}
}
