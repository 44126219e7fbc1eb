package bench

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
)

const charm = "./testcharms/noop"

// sizes is BENCH_N as a sorted list of unit counts.
func sizes(b *testing.B) []int {
	spec := os.Getenv("BENCH_N")
	if spec == "" {
		spec = "10,100,500"
	}
	var out []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("BENCH_N=%q: want comma-separated positive unit counts, e.g. BENCH_N=10,100,500", spec)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// machineCount is how many machines the units are packed on: each machine
// is an OS process whose machine lock runs one hook at a time, so at least
// two per core, that hooks can use every core.
func machineCount(units int) int {
	return min(units, max(4, 2*runtime.NumCPU()))
}

// BenchmarkLocal runs, for each N of BENCH_N, on a controller of its own:
//
//   - settle: `troupe deploy` of N noop units packed on a few machines
//     (already started) until every unit is active and idle, against
//     Σ(hook process time) / cores: the hooks the uniters ran (counted in
//     their logs) exec'd directly the same number of times;
//
// and at the largest N, in the same installation:
//
//   - memory: the controller's VmRSS growth per unit (from machines
//     started to units settled) and per connected agent (from bootstrap),
//     against the size of the unit's part of the status document;
//   - fan-out: `troupe config` until the last unit started its
//     config-changed (the hook's stamp file's mtime), against N
//     config-changed hooks exec'd directly / cores;
//   - reconnect: the controller stopped and started again as bootstrap
//     does; time from the new process until troupe_agents_connected is
//     back to what it was, against the time until it answers its first
//     API call.
func BenchmarkLocal(b *testing.B) {
	ns := sizes(b)
	for i, n := range ns {
		b.Run(fmt.Sprintf("units-%d", n), func(b *testing.B) {
			runUnits(b, n, i == len(ns)-1)
		})
	}
}

func runUnits(b *testing.B, n int, largest bool) {
	cores := float64(runtime.NumCPU())
	e := newEnv(b)
	pid := e.controllerPID()
	rssBoot := rssKB(b, pid)
	m := machineCount(n)
	e.mustTroupe(2*time.Minute, "add-machine", "-n", strconv.Itoa(m))
	e.waitFor(5*time.Minute, time.Second, fmt.Sprintf("%d machines started", m), machinesStarted(m))
	rssMachines := rssKB(b, pid)
	heapMachines, _ := e.metric("go_memstats_heap_inuse_bytes")
	goroutinesMachines, _ := e.metric("go_goroutines")

	// Settle.
	app := "noop"
	to := make([]string, n)
	for i := range to {
		to[i] = strconv.Itoa(i % m)
	}
	var profiled func()
	if largest {
		// A CPU profile of the first part of the settle (BENCH_PROFILE=1).
		profiled = e.cpuProfiles(fmt.Sprintf("settle-%d", n), 20)
	}
	ctlBefore, agentsBefore := e.cpuSnapshot()
	start := time.Now()
	e.mustTroupe(5*time.Minute, "deploy", charm, app, "-n", strconv.Itoa(n), "--to", strings.Join(to, ","))
	settled := e.waitFor(time.Duration(60+n)*time.Second*2, 500*time.Millisecond,
		fmt.Sprintf("%d units active and idle", n), appSettled(app, n))
	settle := settled.Sub(start)
	ctlAfter, agentsAfter := e.cpuSnapshot()
	var agentCPU, hookCPU float64
	for f, a := range agentsAfter {
		agentCPU += a.self - agentsBefore[f].self
		hookCPU += a.children - agentsBefore[f].children
	}
	ctlCPU := ctlAfter.self - ctlBefore.self
	// Where the settle's CPU went: the controller, the machine agents
	// (uniters, in-process) and what they exec'd (hooks, hook tools),
	// against what the machine had (wall time × cores).
	b.ReportMetric(ctlCPU, "settle-cpu-controller-s")
	b.ReportMetric(agentCPU, "settle-cpu-agents-s")
	b.ReportMetric(hookCPU, "settle-cpu-hooks-s")
	b.Logf("CPU during the settle: controller %.1fs, machine agents %.1fs, hooks and hook tools %.1fs; %.1fs available (%.0f%% used)",
		ctlCPU, agentCPU, hookCPU, settle.Seconds()*cores, 100*(ctlCPU+agentCPU+hookCPU)/(settle.Seconds()*cores))
	if profiled != nil {
		profiled()
	}
	runs := hooksRun(b, e.home, app)
	var total int
	for _, c := range runs {
		total += c
	}
	floor := time.Duration(float64(execHooks(b, runs)) / cores)
	b.ReportMetric(settle.Seconds(), "settle-s")
	b.ReportMetric(floor.Seconds(), "floor-settle-s")
	b.ReportMetric(settle.Seconds()/floor.Seconds(), "settle/floor")
	b.ReportMetric(float64(total)/float64(n), "hooks/unit")
	b.ReportMetric(float64(m), "machines")
	b.Logf("%d units on %d machines settled in %.2fs; hooks run %v; floor %.2fs", n, m, settle.Seconds(), runs, floor.Seconds())
	if !largest {
		return
	}

	// Memory.
	time.Sleep(2 * time.Second) // let the last status writes land
	rssUnits := rssKB(b, pid)
	agents, ok := e.metric("troupe_agents_connected")
	if !ok || agents == 0 {
		b.Fatal("the controller's metrics endpoint shows no troupe_agents_connected")
	}
	st, err := e.status()
	if err != nil {
		b.Fatal(err)
	}
	heapUnits, _ := e.metric("go_memstats_heap_inuse_bytes")
	goroutines, _ := e.metric("go_goroutines")
	b.ReportMetric((heapUnits-heapMachines)/1024/float64(n), "heap-KB/unit")
	b.ReportMetric((goroutines-goroutinesMachines)/float64(n), "goroutines/unit")
	b.Logf("controller heap in use: %.0f KB with %d machines, %.0f KB with %d units; goroutines %.0f → %.0f",
		heapMachines/1024, m, heapUnits/1024, n, goroutinesMachines, goroutines)
	var mem []string
	for _, f := range []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes", "go_memstats_heap_released_bytes",
		"go_memstats_next_gc_bytes", "go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes"} {
		v, _ := e.metric(f)
		mem = append(mem, fmt.Sprintf("%s=%.0fKB", strings.TrimPrefix(f, "go_memstats_"), v/1024))
	}
	b.Logf("controller Go memory with %d units: %s", n, strings.Join(mem, " "))
	e.heapProfile(fmt.Sprintf("controller-heap-%d.prof", n))
	perUnit := (rssUnits - rssMachines) / float64(n)
	b.ReportMetric(perUnit, "rss-KB/unit")
	b.ReportMetric((rssUnits-rssBoot)/agents, "rss-KB/agent")
	b.ReportMetric(float64(proto.Size(st))/1024/float64(n), "status-KB/unit")
	b.ReportMetric(agents, "agents")
	b.Logf("controller VmRSS: %.0f KB at bootstrap, %.0f KB with %d machines, %.0f KB with %d units (%v agents connected)",
		rssBoot, rssMachines, m, rssUnits, n, agents)

	if !skipped("fanout") {
		fanOut(b, e, app, n, cores)
	}

	// Reconnect storm.
	firstAPI, all := restartStorm(b, e, agents)
	b.ReportMetric(all.Seconds(), "reconnect-s")
	b.ReportMetric(firstAPI.Seconds(), "floor-reconnect-s")
	b.ReportMetric(all.Seconds()/firstAPI.Seconds(), "reconnect/floor")
}

// skipped reports whether BENCH_SKIP (comma-separated) names scenario:
// `BENCH_SKIP=fanout` measures memory and the reconnect storm alone.
func skipped(scenario string) bool {
	return slices.Contains(strings.Split(os.Getenv("BENCH_SKIP"), ","), scenario)
}

// fanOut is scenario 5: `troupe config` until the last of the n units
// started its config-changed.
func fanOut(b *testing.B, e *env, app string, n int, cores float64) {
	stamps, _ := filepath.Glob(filepath.Join(e.home, "machines", "*", "agents", "unit-"+app+"-*", "config-changed.stamp"))
	if len(stamps) != n {
		b.Fatalf("found %d config-changed.stamp files, want %d (one per unit)", len(stamps), n)
	}
	before := time.Now()
	e.mustTroupe(2*time.Minute, "config", app, "token="+strconv.FormatInt(before.UnixNano(), 10))
	last := waitStamps(b, stamps, before, time.Duration(60+n)*time.Second)
	fanout := last.Sub(before)
	floorFan := time.Duration(float64(execHooks(b, map[string]int{"config-changed": n})) / cores)
	b.ReportMetric(fanout.Seconds(), "fanout-s")
	b.ReportMetric(floorFan.Seconds(), "floor-fanout-s")
	b.ReportMetric(fanout.Seconds()/floorFan.Seconds(), "fanout/floor")
	e.waitFor(time.Duration(60+n)*time.Second, time.Second, "units idle again after the config change", appSettled(app, n))
}

var committedRE = regexp.MustCompile(`msg="hook committed".* unit=(\S+) hook=(\S+)`)

// hooksRun counts, by hook name, the hooks the units of app committed,
// from every machine agent's log.
func hooksRun(b *testing.B, home, app string) map[string]int {
	logs, _ := filepath.Glob(filepath.Join(home, "machines", "*", "agent.log"))
	counts := map[string]int{}
	for _, path := range logs {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
		for sc.Scan() {
			if m := committedRE.FindStringSubmatch(sc.Text()); m != nil && strings.HasPrefix(m[1], app+"/") {
				counts[m[2]]++
			}
		}
		f.Close()
	}
	if len(counts) == 0 {
		b.Fatalf("no \"hook committed\" line for %s in %v", app, logs)
	}
	return counts
}

// execHooks execs each hook file of the charm as many times as runs says,
// one after another, and returns the sum of their wall times: Σ(hook
// process time). The hooks run with what the uniter gives them that they
// use (CHARM_DIR, JUJU_* names); the one hook tool the charm calls
// (status-set, in start) is /bin/true here, so the floor leaves out the
// tool's round trip to the agent (scenario 2 measures that).
func execHooks(b *testing.B, runs map[string]int) time.Duration {
	b.Helper()
	dir := b.TempDir()
	charmDir := filepath.Join(dir, "charm")
	tools := filepath.Join(dir, "tools")
	for _, d := range []string{charmDir, tools} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.Symlink("/bin/true", filepath.Join(tools, "status-set")); err != nil {
		b.Fatal(err)
	}
	hooks, err := filepath.Abs(filepath.Join("..", "..", charm, "hooks"))
	if err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "CHARM_DIR="+charmDir, "JUJU_CHARM_DIR="+charmDir, "JUJU_UNIT_NAME=noop/0",
		"JUJU_CONTEXT_ID=floor", "PATH="+tools+":"+os.Getenv("PATH"))
	var sum time.Duration
	for _, name := range slices.Sorted(maps.Keys(runs)) {
		path := filepath.Join(hooks, name)
		if _, err := os.Stat(path); err != nil {
			b.Fatalf("the uniter ran hook %q but the charm has no %s: %v", name, path, err)
		}
		for i := 0; i < runs[name]; i++ {
			cmd := exec.Command(path)
			cmd.Env = append(env, "JUJU_HOOK_NAME="+name)
			cmd.Dir = charmDir
			t0 := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("hook %s exec'd directly: %v\n%s", name, err, out)
			}
			sum += time.Since(t0)
		}
	}
	return sum
}

// waitStamps waits until every stamp file was written after since, and
// returns the latest modification time.
func waitStamps(b *testing.B, stamps []string, since time.Time, limit time.Duration) time.Time {
	b.Helper()
	deadline := time.Now().Add(limit)
	for {
		var last time.Time
		pending := 0
		for _, p := range stamps {
			fi, err := os.Stat(p)
			if err != nil || !fi.ModTime().After(since) {
				pending++
				continue
			}
			if fi.ModTime().After(last) {
				last = fi.ModTime()
			}
		}
		if pending == 0 {
			return last
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d units had not started config-changed %v after the change", pending, len(stamps), limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// restartStorm stops the controller (SIGTERM, as destroy does) and starts
// it again as `troupe bootstrap` does, then returns the time from the new
// process's start until it answered an API call, and until the agents
// connected were back to want.
func restartStorm(b *testing.B, e *env, want float64) (firstAPI, all time.Duration) {
	b.Helper()
	pid := e.controllerPID()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		b.Fatalf("cannot stop the controller (pid %d): %v", pid, err)
	}
	deadline := time.Now().Add(time.Minute)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			b.Fatalf("controller pid %d still running a minute after SIGTERM", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	dir := filepath.Join(e.home, "controller")
	logf, err := os.OpenFile(filepath.Join(dir, "trouped.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(e.bin, "trouped"), "controller", "--data-dir", dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trouped.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		b.Fatal(err)
	}
	go cmd.Wait() // reap; cleanup destroys the controller
	deadline = time.Now().Add(2 * time.Minute)
	for firstAPI == 0 {
		if answers(e.info) {
			firstAPI = time.Since(start)
		} else if time.Now().After(deadline) {
			b.Fatal("the restarted controller answers no API call within 2m")
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	restartsBefore := e.machineMetric("troupe_engine_worker_restarts_total", "manifold")
	var timeline []string
	marks := []float64{0.1, 0.25, 0.5, 0.75, 0.9, 0.99}
	for {
		v, ok := e.metric("troupe_agents_connected")
		for ok && len(marks) > 0 && v >= marks[0]*want {
			timeline = append(timeline, fmt.Sprintf("%.0f%%@%.1fs", marks[0]*100, time.Since(start).Seconds()))
			marks = marks[1:]
		}
		if ok && v >= want {
			all = time.Since(start)
			break
		}
		if time.Now().After(deadline) {
			v, _ := e.metric("troupe_agents_connected")
			b.Fatalf("%v of %v agents connected 2m after the controller restart", v, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Logf("controller restarted: first API answer after %.2fs, all %v agents connected after %.2fs", firstAPI.Seconds(), want, all.Seconds())
	throttled, _ := e.metric("troupe_api_logins_throttled_total")
	b.ReportMetric(throttled, "reconnect-throttled-logins")
	b.Logf("reconnect timeline (agents connected): %s; logins throttled: %.0f; engine worker restarts during the storm by manifold: %v",
		strings.Join(timeline, " "), throttled, diffCounts(restartsBefore, e.machineMetric("troupe_engine_worker_restarts_total", "manifold")))
	// The old connection's transport is gone; later calls use a new one.
	e.conn.Close()
	if e.conn, err = api.Dial(e.info); err != nil {
		b.Fatal(err)
	}
	return firstAPI, all
}

// answers reports whether a fresh connection gets a ControllerInfo answer.
func answers(info api.Info) bool {
	conn, err := api.Dial(info)
	if err != nil {
		return false
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = conn.ControllerInfo(ctx, &apipb.ControllerInfoRequest{})
	return err == nil
}
