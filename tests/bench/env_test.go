package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/metrics"
)

// env is one Troupe installation under its own TROUPE_HOME, driven with
// the binaries `make build` wrote.
type env struct {
	b    *testing.B
	home string // TROUPE_HOME
	bin  string // directory of troupe, trouped, hooktool
	root string // repository root; commands run here
	conn *api.Conn
	info api.Info
}

// binDir is BENCH_BIN or the repository's bin/, checked to hold the
// binaries.
func binDir(b *testing.B) string {
	dir := os.Getenv("BENCH_BIN")
	if dir == "" {
		dir = filepath.Join("..", "..", "bin")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"troupe", "trouped", "hooktool"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			b.Fatalf("no %s in %s: run `make build` first (or set BENCH_BIN to where the binaries are): %v", name, dir, err)
		}
	}
	return dir
}

// newEnv bootstraps a controller. When the benchmark ends the controller
// is destroyed and every process mentioning the TROUPE_HOME is killed.
func newEnv(b *testing.B) *env {
	b.Helper()
	// Short: agents put unix sockets under TROUPE_HOME (108-byte limit).
	home, err := os.MkdirTemp("", "tb-")
	if err != nil {
		b.Fatal(err)
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	e := &env{b: b, home: home, bin: binDir(b), root: root}
	b.Cleanup(func() {
		if e.conn != nil {
			e.conn.Close()
		}
		if keep := os.Getenv("BENCH_KEEP"); keep != "" {
			e.keepLogs(keep)
		}
		e.troupe(2*time.Minute, "destroy-controller", "--yes")
		killLeftovers(b, home)
		if !b.Failed() {
			os.RemoveAll(home)
		} else {
			b.Logf("logs kept in %s", home)
		}
	})
	e.mustTroupe(3*time.Minute, "bootstrap", "--api-port", strconv.Itoa(freePort(b)))
	var cc struct {
		api.Info
		CurrentModel string `json:"current-model"`
	}
	data, err := os.ReadFile(filepath.Join(home, "client.json"))
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(data, &cc); err != nil {
		b.Fatalf("client.json: %v", err)
	}
	e.info = cc.Info
	if e.conn, err = api.Dial(cc.Info); err != nil {
		b.Fatal(err)
	}
	return e
}

// troupe runs the CLI; output goes to files, not pipes, since a daemon
// it starts may inherit them.
func (e *env) troupe(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(e.bin, "troupe"), args...)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "TROUPE_HOME="+e.home)
	out, err := os.CreateTemp("", "tb-out-")
	if err != nil {
		return "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	data, _ := os.ReadFile(out.Name())
	if err != nil {
		return string(data), fmt.Errorf("troupe %s: %w\n%s", strings.Join(args, " "), err, data)
	}
	return string(data), nil
}

func (e *env) mustTroupe(timeout time.Duration, args ...string) string {
	e.b.Helper()
	out, err := e.troupe(timeout, args...)
	if err != nil {
		e.b.Fatal(err)
	}
	return out
}

// status is the default model's status, straight from the API (no CLI
// process, no rendering: polling must cost the machine little).
func (e *env) status() (*apipb.StatusResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return e.conn.Status(ctx, &apipb.StatusRequest{Model: "default"})
}

// waitFor polls status every interval until cond holds, and returns the
// time it first held. It fails the benchmark after limit.
func (e *env) waitFor(limit, interval time.Duration, what string, cond func(*apipb.StatusResult) bool) time.Time {
	e.b.Helper()
	deadline := time.Now().Add(limit)
	var last string
	for {
		st, err := e.status()
		if err == nil && cond(st) {
			return time.Now()
		}
		if err != nil {
			last = err.Error()
		} else {
			last = summarize(st)
		}
		if time.Now().After(deadline) {
			e.b.Fatalf("not %s within %v; last status: %s", what, limit, last)
		}
		time.Sleep(interval)
	}
}

// summarize counts units and machines by status, for failure messages.
func summarize(st *apipb.StatusResult) string {
	counts := map[string]int{}
	for _, a := range st.Applications {
		for _, u := range a.Units {
			counts[a.Name+" "+u.GetWorkload().GetCurrent()+"/"+u.GetAgent().GetCurrent()]++
		}
	}
	for _, m := range st.Machines {
		counts["machine "+m.GetAgent().GetCurrent()]++
	}
	return fmt.Sprint(counts)
}

// appSettled: app has n units, every one workload active and agent idle.
func appSettled(app string, n int) func(*apipb.StatusResult) bool {
	return func(st *apipb.StatusResult) bool {
		for _, a := range st.Applications {
			if a.Name != app {
				continue
			}
			if len(a.Units) != n {
				return false
			}
			for _, u := range a.Units {
				if u.GetWorkload().GetCurrent() != "active" || u.GetAgent().GetCurrent() != "idle" {
					return false
				}
			}
			return true
		}
		return false
	}
}

// machinesStarted: n machines, every agent started.
func machinesStarted(n int) func(*apipb.StatusResult) bool {
	return func(st *apipb.StatusResult) bool {
		if len(st.Machines) != n {
			return false
		}
		for _, m := range st.Machines {
			if m.GetAgent().GetCurrent() != "started" {
				return false
			}
		}
		return true
	}
}

// controllerPID reads the pid `troupe bootstrap` recorded.
func (e *env) controllerPID() int {
	e.b.Helper()
	data, err := os.ReadFile(filepath.Join(e.home, "controller", "trouped.pid"))
	if err != nil {
		e.b.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		e.b.Fatalf("controller pid file: %v", err)
	}
	return pid
}

// cpuTimes is the CPU a process used, in seconds: its own (user+system)
// and that of its waited-for children (the hooks and hook tools a machine
// agent ran).
type cpuTimes struct{ self, children float64 }

// procCPU reads /proc/pid/stat.
func procCPU(b *testing.B, pid int) cpuTimes {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("CPU times of %d: %v", pid, err)
	}
	// Fields after the command (which may hold spaces) start after ")".
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 15 {
		b.Fatalf("/proc/%d/stat: too few fields", pid)
	}
	tick := 100.0 // USER_HZ on Linux
	val := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v / tick }
	// utime, stime, cutime, cstime are fields 14–17 of stat, 12–15 here.
	return cpuTimes{self: val(11) + val(12), children: val(13) + val(14)}
}

// cpuSnapshot is the CPU times of the controller and of every machine
// agent (by pid file) at one moment.
func (e *env) cpuSnapshot() (controller cpuTimes, agents map[string]cpuTimes) {
	e.b.Helper()
	controller = procCPU(e.b, e.controllerPID())
	agents = map[string]cpuTimes{}
	files, _ := filepath.Glob(filepath.Join(e.home, "machines", "*", "agent.pid"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			agents[f] = procCPU(e.b, pid)
		}
	}
	return controller, agents
}

// rssKB is VmRSS of a process, in KB.
func rssKB(b *testing.B, pid int) float64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				b.Fatalf("VmRSS of %d: %v", pid, err)
			}
			return kb
		}
	}
	b.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// metric sums a family's samples on the controller's metrics endpoint;
// ok is false when the endpoint does not answer.
func (e *env) metric(family string) (float64, bool) {
	data, err := os.ReadFile(filepath.Join(e.home, "controller", "metrics.addr"))
	if err != nil {
		return 0, false
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + strings.TrimSpace(string(data)) + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, false
	}
	var sum float64
	for _, l := range bytes.Split(body, []byte("\n")) {
		s := string(l)
		if strings.HasPrefix(s, family+"{") || strings.HasPrefix(s, family+" ") {
			f := strings.Fields(s)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum, true
}

// machineMetric sums a family's samples over every machine agent's
// metrics endpoint, by the value of label.
func (e *env) machineMetric(family, label string) map[string]float64 {
	out := map[string]float64{}
	dirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*"))
	for _, dir := range dirs {
		body, ok := scrape(dir)
		if !ok {
			continue
		}
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(family) + `\{[^}]*` + regexp.QuoteMeta(label) + `="([^"]*)"[^}]*\} (\S+)$`)
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			v, _ := strconv.ParseFloat(m[2], 64)
			out[m[1]] += v
		}
	}
	return out
}

// heapProfile saves the controller's heap profile as name in
// BENCH_PROF_DIR when the controller serves profiles (TROUPE_PPROF set,
// `make bench BENCH_PROFILE=1`); otherwise it does nothing.
func (e *env) heapProfile(name string) {
	e.b.Helper()
	dir := os.Getenv("BENCH_PROF_DIR")
	if os.Getenv(metrics.ProfilesEnv) == "" || dir == "" {
		return
	}
	data, err := os.ReadFile(filepath.Join(e.home, "controller", "metrics.addr"))
	if err != nil {
		e.b.Fatal(err)
	}
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Get("http://" + strings.TrimSpace(string(data)) + "/debug/pprof/heap?gc=1")
	if err != nil {
		e.b.Fatalf("controller heap profile: %v", err)
	}
	defer resp.Body.Close()
	prof, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		e.b.Fatalf("controller heap profile: %d %v", resp.StatusCode, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), prof, 0o644); err != nil {
		e.b.Fatal(err)
	}
	e.b.Logf("controller heap profile written to %s", filepath.Join(dir, name))
}

// cpuProfiles starts CPU profiles of seconds of the controller and of
// the first machine's agent (when they serve profiles, as for
// heapProfile) and returns a function that waits for them and saves them
// in BENCH_PROF_DIR as <name>-controller.prof and <name>-machine.prof.
func (e *env) cpuProfiles(name string, seconds int) (wait func()) {
	e.b.Helper()
	dir := os.Getenv("BENCH_PROF_DIR")
	if os.Getenv(metrics.ProfilesEnv) == "" || dir == "" {
		return func() {}
	}
	sources := map[string]string{"controller": filepath.Join(e.home, "controller", "metrics.addr")}
	if agents, _ := filepath.Glob(filepath.Join(e.home, "machines", "*", "metrics.addr")); len(agents) > 0 {
		sources["machine"] = agents[0] // sorted: the first machine's agent
	}
	done := make(chan string, len(sources))
	for who, addrFile := range sources {
		go func() {
			data, err := os.ReadFile(addrFile)
			if err != nil {
				done <- fmt.Sprintf("%s CPU profile: %v", who, err)
				return
			}
			client := &http.Client{Timeout: time.Duration(seconds+60) * time.Second}
			resp, err := client.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", strings.TrimSpace(string(data)), seconds))
			if err != nil {
				done <- fmt.Sprintf("%s CPU profile: %v", who, err)
				return
			}
			defer resp.Body.Close()
			prof, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK {
				done <- fmt.Sprintf("%s CPU profile: %d %v", who, resp.StatusCode, err)
				return
			}
			out := filepath.Join(dir, name+"-"+who+".prof")
			if err := os.WriteFile(out, prof, 0o644); err != nil {
				done <- err.Error()
				return
			}
			done <- who + " CPU profile written to " + out
		}()
	}
	return func() {
		for range sources {
			e.b.Log(<-done)
		}
	}
}

// keepLogs copies the installation's logs (controller, machine agents)
// under dir before it is destroyed (BENCH_KEEP=dir).
func (e *env) keepLogs(dir string) {
	logs, _ := filepath.Glob(filepath.Join(e.home, "*", "*.log"))
	more, _ := filepath.Glob(filepath.Join(e.home, "machines", "*", "*.log"))
	for _, p := range append(logs, more...) {
		rel, _ := filepath.Rel(e.home, p)
		dst := filepath.Join(dir, filepath.Base(e.home), rel)
		data, err := os.ReadFile(p)
		if err == nil {
			err = os.MkdirAll(filepath.Dir(dst), 0o755)
		}
		if err == nil {
			err = os.WriteFile(dst, data, 0o644)
		}
		if err != nil {
			e.b.Logf("BENCH_KEEP: %v", err)
		}
	}
	e.b.Logf("logs copied to %s", filepath.Join(dir, filepath.Base(e.home)))
}

// diffCounts is after − before, leaving out what did not change.
func diffCounts(before, after map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// scrape reads the metrics endpoint whose address dir/metrics.addr holds.
func scrape(dir string) (string, bool) {
	data, err := os.ReadFile(filepath.Join(dir, "metrics.addr"))
	if err != nil {
		return "", false
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + strings.TrimSpace(string(data)) + "/metrics")
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", false
	}
	return string(body), true
}

func freePort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// killLeftovers SIGKILLs every process whose command line or environment
// mentions home.
func killLeftovers(b *testing.B, home string) {
	for round := 0; round < 50; round++ {
		pids := processesMentioning(home)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Errorf("processes mentioning %s survived SIGKILL: %v", home, processesMentioning(home))
}

func processesMentioning(s string) []int {
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
		for _, f := range []string{"cmdline", "environ"} {
			data, err := os.ReadFile(filepath.Join("/proc", ent.Name(), f))
			if err == nil && bytes.Contains(data, []byte(s)) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
