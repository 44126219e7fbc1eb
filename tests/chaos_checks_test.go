package tests

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/troupe-dev/troupe/internal/metrics"
	"github.com/troupe-dev/troupe/tests/chaos"
)

// The chaos suite's machine lock and leak checks (TestChaos).

// machineLockCheck: no two hook runs on one machine overlapped, from the
// charms' own nanosecond clocks (span-dir), with the allowance
// chaos.LockOverlaps describes for hooks orphaned by an agent SIGKILL.
// machine-lock.log has only second resolution, so it is not the evidence.
func (c *chaosRun) machineLockCheck() chaos.Check {
	ch := chaos.Check{Name: "the machine lock never overlapped"}
	var spans []chaos.Span
	// The LXD machine's ids are its model's: prefixed, they cannot
	// collide with the local machines'.
	dirs := map[string]string{"": c.spans}
	if c.lxd != nil {
		dirs[lxModel+":"] = c.lxd.spans
	}
	for prefix, dir := range dirs {
		files, err := os.ReadDir(dir)
		if err != nil {
			ch.Violations = append(ch.Violations, "cannot read the span dir: "+err.Error())
			return ch
		}
		for _, f := range files {
			unit := f.Name()
			if i := strings.LastIndexByte(unit, '-'); i > 0 {
				unit = unit[:i] + "/" + unit[i+1:]
			}
			ss, err := chaos.ParseSpans(unit, readLinesIfExists(filepath.Join(dir, f.Name())))
			if err != nil {
				ch.Violations = append(ch.Violations, err.Error())
				continue
			}
			for i := range ss {
				ss[i].Machine = prefix + ss[i].Machine
			}
			spans = append(spans, ss...)
		}
	}
	c.mu.Lock()
	kills := map[string][]time.Time{}
	nkills := 0
	for m, ks := range c.agentKills {
		kills[m] = slices.Clone(ks)
		nkills += len(ks)
	}
	c.mu.Unlock()
	v, st := chaos.LockOverlaps(spans, kills)
	if len(v) > 10 {
		v = append(v[:10:10], fmt.Sprintf("... and %d more", len(v)-10))
	}
	ch.Violations = append(ch.Violations, v...)
	// Every machine with a kvstore or kvclient unit must have recorded
	// runs, or the check would be vacuous.
	if st.Machines < 3 {
		ch.Violations = append(ch.Violations, fmt.Sprintf("hook runs recorded on %d machines, want at least 3: the check would be vacuous", st.Machines))
	}
	gap := "none"
	if st.MinGap >= 0 {
		gap = st.MinGap.String()
	}
	ch.Detail = fmt.Sprintf("%d hook runs on %d machines (ns clocks), %d orphaned by %d agent kills, %d without an end; least gap between runs %s",
		st.Runs, st.Machines, st.Orphaned, nkills, st.Unended, gap)
	return ch
}

// controllerFigures scrapes the controller's metrics endpoint (its
// address re-read from metrics.addr: a restarted controller listens on a
// new port) and sums each family's samples. A fresh connection each time,
// so the scrape holds no descriptor or goroutine in the controller after.
func (c *chaosRun) controllerFigures() (map[string]float64, error) {
	addr, err := metrics.ReadAddr(filepath.Join(c.e.home, "controller"))
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("scrape %s: status %d: %s", addr, resp.StatusCode, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := seriesRE.FindStringSubmatch(sc.Text())
		if m == nil || strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		if v, err := strconv.ParseFloat(m[3], 64); err == nil {
			out[m[1]] += v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scrape %s: %w", addr, err)
	}
	for _, f := range []string{"go_goroutines", "process_open_fds"} {
		if _, ok := out[f]; !ok {
			return nil, fmt.Errorf("scrape %s: no %s", addr, f)
		}
	}
	return out, nil
}

// controllerFloor is the floor of n scrapes a second apart (the monitor's
// status calls come and go; a leak stays), and the last scrape's figures.
func (c *chaosRun) controllerFloor(n int) (chaos.Sample, map[string]float64, error) {
	var samples []chaos.Sample
	var last map[string]float64
	var lastErr error
	for i := 0; i < n; i++ {
		if i > 0 {
			time.Sleep(time.Second)
		}
		f, err := c.controllerFigures()
		if err != nil {
			lastErr = err
			continue
		}
		last = f
		samples = append(samples, chaos.Sample{Goroutines: f["go_goroutines"], FDs: f["process_open_fds"]})
	}
	floor, err := chaos.Floor(samples)
	if err != nil {
		return floor, nil, fmt.Errorf("%w (last error: %v)", err, lastErr)
	}
	return floor, last, nil
}

// quitController stops the controller with SIGQUIT, so that the Go
// runtime writes every goroutine's stack to its log, and returns that
// dump.
func (c *chaosRun) quitController() (string, error) {
	dir := filepath.Join(c.e.home, "controller")
	data, err := os.ReadFile(filepath.Join(dir, "trouped.pid"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return "", fmt.Errorf("cannot find the controller to restart it: %v", err)
	}
	logPath := filepath.Join(dir, "trouped.log")
	var from int64
	if fi, err := os.Stat(logPath); err == nil {
		from = fi.Size()
	}
	syscall.Kill(pid, syscall.SIGQUIT)
	deadline := time.Now().Add(20 * time.Second)
	for syscall.Kill(pid, 0) == nil && !zombieProc(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			return "", fmt.Errorf("controller pid %d still running 20s after SIGQUIT; killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	f, err := os.Open(logPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	f.Seek(from, io.SeekStart)
	tail, _ := io.ReadAll(f)
	dump := string(tail)
	if i := strings.Index(dump, "SIGQUIT"); i >= 0 {
		dump = dump[i:]
	}
	return dump, nil
}

// restartAndConverge starts the controller and waits for the run's
// state to converge again.
func (c *chaosRun) restartAndConverge() (time.Duration, error) {
	c.startController()
	restarted := time.Now()
	var pending []string
	for deadline := time.Now().Add(chaosConverge); ; {
		if pending = c.observe().pending; len(pending) == 0 {
			return time.Since(restarted), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("not converged within %v of a controller restart: %s", chaosConverge, strings.Join(pending[:min(5, len(pending))], "; "))
		}
		time.Sleep(time.Second)
	}
}

// Leak check parameters: scrapes per floor, and how long a restarted
// controller is left to settle after convergence before its baseline.
const (
	leakScrapes = 8
	leakSettle  = 10 * time.Second
	leakGrace   = 60 * time.Second
)

// leakCheck: the controller's goroutines and open descriptors are back
// to baseline after the faults. The baseline is a fresh controller
// process serving the same model and agents: the floor after
// convergence is taken, then the controller is stopped (SIGQUIT: its
// goroutine dump goes to its log, compared on a violation with the fresh
// process's) and restarted, every agent reconnects, the run converges
// again and, after leakSettle, the new process's floor is the baseline. The model, the units and the
// connected agents are the same, so the difference is what the faults
// left behind in the old process (chaos.LeakViolations, with its
// tolerances). The floor after setUp is reported too; it is not compared,
// the units differ by then.
func (c *chaosRun) leakCheck() chaos.Check {
	ch := chaos.Check{Name: "controller goroutines and FDs back to baseline"}
	after, figs, err := c.controllerFloor(leakScrapes)
	if err != nil {
		ch.Violations = append(ch.Violations, "after convergence: "+err.Error())
		return ch
	}
	// Dead peers' connections close on keepalive timeouts, a little after
	// convergence: while the floor is above the setUp one by more than the
	// tolerance, it is taken again, for up to leakGrace.
	waited := time.Duration(0)
	for start := time.Now(); len(chaos.LeakViolations(after, c.baseline, chaos.GoroutineTolerance, chaos.FDTolerance)) > 0 && waited < leakGrace; waited = time.Since(start) {
		time.Sleep(2 * time.Second)
		if a, f, err := c.controllerFloor(3); err == nil {
			after, figs = a, f
		}
	}
	c.mu.Lock()
	up := time.Since(c.ctlStarted)
	faults := 0
	for _, at := range c.faultsAt {
		if at.After(c.ctlStarted) {
			faults++
		}
	}
	c.mu.Unlock()
	auths, ends := figs["troupe_api_authentications_total"], figs["troupe_agent_disconnects_total"]

	afterDump, err := c.quitController()
	if err != nil {
		ch.Violations = append(ch.Violations, err.Error())
		return ch
	}
	reconverged, err := c.restartAndConverge()
	if err != nil {
		ch.Violations = append(ch.Violations, "baseline: "+err.Error())
		return ch
	}
	time.Sleep(leakSettle)
	base, _, err := c.controllerFloor(leakScrapes)
	if err != nil {
		ch.Violations = append(ch.Violations, "baseline after the restart: "+err.Error())
		return ch
	}
	ch.Violations = chaos.LeakViolations(after, base, chaos.GoroutineTolerance, chaos.FDTolerance)
	if len(ch.Violations) > 0 {
		// Where the extra goroutines wait: the fresh process's dump
		// against the old one's (then a controller for what follows).
		baseDump, err := c.quitController()
		if err == nil {
			_, err = c.restartAndConverge()
		}
		if err != nil {
			ch.Violations = append(ch.Violations, "after the baseline dump: "+err.Error())
		}
		const module = "github.com/troupe-dev/troupe"
		for _, g := range chaos.GroupGrowth(chaos.GoroutineGroups(afterDump, module), chaos.GoroutineGroups(baseDump, module), 8) {
			ch.Violations = append(ch.Violations, "goroutines grown: "+g)
		}
	}
	ch.Detail = fmt.Sprintf("goroutines %.0f, fds %.0f after the faults (%.0fs after convergence; process up %.0fs through %d faults, %.0f authentications, %.0f agent stream ends); "+
		"fresh restart, same agents (reconverged in %.1fs): %.0f, %.0f; tolerance %s, %s; after setUp %.0f, %.0f",
		after.Goroutines, after.FDs, waited.Seconds(), up.Seconds(), faults, auths, ends, reconverged.Seconds(),
		base.Goroutines, base.FDs, chaos.GoroutineTolerance, chaos.FDTolerance, c.baseline.Goroutines, c.baseline.FDs)
	return ch
}
