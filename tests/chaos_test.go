package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/tests/chaos"
)

// Chaos knobs. TestChaos's defaults are the short run `go test ./...`
// (and so `make test` and CI) does; `make chaos SEED= DURATION=` sets
// them, and TROUPE_CHAOS_MEASURE=1 adds the AC5 measurements (a 60 s
// partition of every link, a controller restart).
const (
	chaosMachines     = 4
	chaosMaxPartition = 20 * time.Second // well under lost-after
	chaosLostAfter    = "2m"
	chaosConverge     = 5 * time.Minute // generous: the machine is small and shared
)

// TestChaos is issue 8's chaos suite. A controller and four machine agents
// on the local provider, each agent's link to the controller through its
// own in-process toxiproxy; kvstore (2 units) related to kvclient (scaled
// up and down), and actioner, under a stream of user operations (config
// changes, add-unit, remove-unit, actions) while faults drawn from the seed
// hit them: controller SIGKILL and restart, machine agent SIGKILL (the
// provisioner restarts it), SIGSTOP/SIGCONT pauses, link partitions, and
// latency, bandwidth, timeout (blackhole), reset_peer and slicer toxics.
// After the faults heal it waits for convergence, then checks: no unit or
// machine was ever shown lost/down (every partition and pause is shorter
// than lost-after); every acknowledged write is reflected (the final
// config is the last acknowledged value or a later unacknowledged one,
// units added and removed as acknowledged); every live unit saw the final
// config in config-changed; the relation data is what the charms' logic
// implies for the final membership; no committed hook ran again (charm
// ledgers against the uniters' "hook committed" lines); every
// acknowledged action has a result and none ran twice; no two hook runs
// on one machine overlapped (the machine lock, from the charms' ns
// spans); the controller's goroutines and open FDs are back to the
// baseline of a fresh restart (chaos_checks_test.go). With
// TROUPE_CHAOS_LXD=auto and LXD usable, a machine in an LXD container
// joins, with container freeze and NIC cut faults (chaos_lxd_test.go).
// It prints the schedule and a report and fails on any violation.
func TestChaos(t *testing.T) {
	seed := uint64(envInt(t, "TROUPE_CHAOS_SEED", 1))
	phase := time.Duration(envInt(t, "TROUPE_CHAOS_DURATION", 60)) * time.Second
	measure := os.Getenv("TROUPE_CHAOS_MEASURE") == "1"
	noLXD, lxdRequired := lxdProbe()
	if noLXD != "" && lxdRequired {
		t.Fatalf("TROUPE_CHAOS_LXD=%s: %s", os.Getenv("TROUPE_CHAOS_LXD"), noLXD)
	}
	lxdMachines := 0
	if noLXD == "" {
		lxdMachines = 1
	}
	sched, err := chaos.Schedule(chaos.Config{Seed: seed, Duration: phase, Machines: chaosMachines, LXD: lxdMachines, MaxPartition: chaosMaxPartition})
	if err != nil {
		t.Fatalf("TROUPE_CHAOS_SEED=%d TROUPE_CHAOS_DURATION=%v: %v", seed, phase, err)
	}
	t.Logf("chaos seed %d, %v, %d faults scheduled:\n%s", seed, phase, len(sched), chaos.Format(sched))

	c := newChaosRun(t, seed)
	c.noLXD = noLXD
	began := time.Now()
	c.setUp()
	if c.baseline, _, err = c.controllerFloor(leakScrapes); err != nil {
		t.Fatalf("controller metrics after setUp: %v", err)
	}
	t.Logf("set up in %.1fs (controller: %.0f goroutines, %.0f open fds); faults begin", time.Since(began).Seconds(), c.baseline.Goroutines, c.baseline.FDs)
	c.run(sched, phase)
	report := c.converge(phase)
	report.Checks = append(report.Checks, c.leakCheck())
	if measure {
		c.measure(&report)
	}
	c.stopMonitor()
	report.Checks = append(report.Checks, c.machineLockCheck(), c.neverLostCheck())
	report.Reconnects = c.reconnects
	report.NoLXD = c.noLXD
	out := report.Format()
	if testing.Verbose() {
		fmt.Println(out) // `make chaos`: the report as plain output
	} else {
		t.Log("\n" + out)
	}
	if n := report.Violations(); n > 0 {
		t.Errorf("%d invariant violations (replay with make chaos SEED=%d DURATION=%d)", n, seed, int(phase.Seconds()))
	}
	if r := c.e.troupe(commandTimeout, "destroy-controller", "--yes"); r.code != 0 {
		t.Logf("destroy-controller: %s", r)
	}
}

type chaosRun struct {
	t       *testing.T
	e       *env
	seed    uint64
	ledgers string
	spans   string // the charms' span-dir: hook runs' start and end, per unit

	machines []string           // machine ids, index = schedule target
	dirs     []string           // their instance dirs
	proxies  []*toxiproxy.Proxy // the machines' links, then the LXD machine's
	apiPort  int
	lxd      *chaosLXD // the machine in an LXD container (index chaosMachines); nil without
	noLXD    string    // why there is none

	mu          sync.Mutex
	injected    map[chaos.Kind]int
	skipped     map[chaos.Kind]int
	lastHeal    time.Time // end of the last fault
	lastPartEnd time.Time // end of the last partition
	// agentKills are, per machine id, when its agent was seen dead after
	// a SIGKILL (the machine lock check's allowance for orphaned hooks).
	agentKills map[string][]time.Time
	// ctlStarted is when the running controller was started; faultsAt
	// the start of every fault carried out (the leak check says how many
	// the checked controller process went through).
	ctlStarted time.Time
	faultsAt   []time.Time
	linkActive map[int]map[chaos.Kind]int // machine index -> link faults in force, by kind
	baseline   chaos.Sample               // the controller's floor after setUp (reported)

	// History of user operations (client side).
	ops       map[string]int
	configs   map[string][]configWrite // app -> writes in issue order
	added     map[string]bool          // acknowledged add-unit
	addUnsure int                      // add-units whose outcome is unknown
	removed   map[string]bool          // acknowledged remove-unit
	maybeRm   map[string]bool
	actions   map[string]string // acknowledged task id -> name param
	opSeq     int

	healing    []healEvent     // partitions healed, not yet seen converged
	reconnects []time.Duration // heal to converged, per partition

	monStop  chan struct{}
	monDone  chan struct{}
	lostSeen []string
}

// healEvent is a healed partition of machine index i at at.
type healEvent struct {
	i  int
	at time.Time
}

type configWrite struct {
	value string
	acked bool
}

func newChaosRun(t *testing.T, seed uint64) *chaosRun {
	return &chaosRun{
		t: t, e: newEnv(t), seed: seed, ledgers: t.TempDir(), spans: t.TempDir(), agentKills: map[string][]time.Time{},
		injected: map[chaos.Kind]int{}, skipped: map[chaos.Kind]int{}, ops: map[string]int{},
		configs: map[string][]configWrite{}, added: map[string]bool{},
		removed: map[string]bool{}, maybeRm: map[string]bool{}, actions: map[string]string{},
	}
}

// setUp bootstraps, adds the machines, puts a proxy in front of each
// machine's link (rewriting its agent.conf and restarting its agent; the
// unit agents it deploys copy its addresses), deploys and relates the
// charms, and starts the status monitor.
func (c *chaosRun) setUp() {
	t, e := c.t, c.e
	c.ctlStarted = time.Now()
	c.apiPort = freePort(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(c.apiPort), "--agent-check-interval", "1s")
	e.mustTroupe(commandTimeout, "model-config", "lost-after="+chaosLostAfter)
	e.mustTroupe(commandTimeout, "add-machine", "-n", strconv.Itoa(chaosMachines))
	doc := waitFor(t, e, readyTimeout, fmt.Sprintf("%d machines started", chaosMachines), func(d statusDoc) bool {
		n := 0
		for _, m := range d.Machines {
			if m.JujuStatus.Current == "started" {
				n++
			}
		}
		return n == chaosMachines
	})
	for id := range doc.Machines {
		c.machines = append(c.machines, id)
	}
	slices.SortFunc(c.machines, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })

	zerolog.SetGlobalLevel(zerolog.Disabled) // the toxics log through zerolog's global logger
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	for i, id := range c.machines {
		dirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*-machine-"+id))
		if len(dirs) != 1 {
			t.Fatalf("instance dir of machine %s: %v", id, dirs)
		}
		c.dirs = append(c.dirs, dirs[0])
		conf, err := api.ReadAgentConfig(dirs[0])
		if err != nil {
			t.Fatal(err)
		}
		p := toxiproxy.NewProxy(srv, "machine-"+id, proxyListenAddr(t), conf.Addresses[0])
		if err := startProxy(p); err != nil {
			t.Fatalf("cannot start the proxy of machine %s: %v", id, err)
		}
		t.Cleanup(p.Stop)
		c.proxies = append(c.proxies, p)
		conf.Addresses = []string{p.Listen}
		conf.BackoffCap = "5s"
		if err := api.WriteAgentConfig(dirs[0], conf); err != nil {
			t.Fatal(err)
		}
		old := agentPID(dirs[0])
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatalf("cannot restart machine agent %s behind its proxy: %v", id, err)
		}
		c.waitAgent(i, old, 60*time.Second)
		t.Logf("machine %s: agent.conf points at proxy %s -> %s", id, p.Listen, p.Upstream)
	}
	led, spans := "ledger-dir="+c.ledgers, "span-dir="+c.spans
	m := c.machines
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/kvstore", "-n", "2", "--to", m[0]+","+m[1], "--config", led, "--config", spans)
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/kvclient", "--to", m[2], "--config", led, "--config", spans)
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/actioner", "--to", m[3])
	e.mustTroupe(commandTimeout, "integrate", "kvstore", "kvclient")
	waitFor(t, e, readyTimeout, "kvstore, kvclient and actioner active and idle",
		appsReady(map[string]int{"kvstore": 2, "kvclient": 1, "actioner": 1}))
	if c.noLXD == "" {
		c.setUpLXD(srv, c.apiPort)
	}
	c.monStop, c.monDone = make(chan struct{}), make(chan struct{})
	go c.monitor()
}

// proxyListenAddr is a loopback address, free a moment ago, on a port
// below the kernel's ephemeral range: a disabled proxy's port must not be
// taken meanwhile as the local port of some outgoing connection, or it
// could not listen again.
func proxyListenAddr(t *testing.T) string { return proxyListenAddrOn(t, "127.0.0.1") }

// proxyListenAddrOn is proxyListenAddr on host's address.
func proxyListenAddrOn(t *testing.T, host string) string {
	lo := 32768
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			lo, _ = strconv.Atoi(f[0])
		}
	}
	if lo < 12000 {
		t.Fatalf("the ephemeral port range starts at %d: leave room below it for the chaos proxies (sysctl net.ipv4.ip_local_port_range)", lo)
	}
	for i := 0; i < 200; i++ {
		port := 10000 + rand.IntN(lo-11000)
		if l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port))); err == nil {
			l.Close()
			return l.Addr().String()
		}
	}
	t.Fatal("no free port below the ephemeral range for a chaos proxy")
	return ""
}

// startProxy enables p, retrying for a while when its port is briefly
// unavailable; enabling an enabled proxy is not an error.
func startProxy(p *toxiproxy.Proxy) error {
	var err error
	for i := 0; i < 100; i++ {
		if err = p.Start(); err == nil || err == toxiproxy.ErrProxyAlreadyStarted {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// waitAgent waits for machine i's agent to run with a pid other than old.
func (c *chaosRun) waitAgent(i, old int, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for {
		if pid := agentPID(c.dirs[i]); pid != 0 && pid != old {
			return pid
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("machine agent %s not restarted within %v", c.machines[i], limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// monitor polls status until stopped and records every unit shown lost
// and every machine shown down.
func (c *chaosRun) monitor() {
	defer close(c.monDone)
	for {
		select {
		case <-c.monStop:
			return
		case <-time.After(time.Second):
		}
		doc, _, err := c.e.status()
		if err != nil {
			continue // the controller is down: nothing shown
		}
		var lx statusDoc
		if c.lxd != nil {
			if lx, err = c.lxStatus(); err != nil {
				continue
			}
		}
		now := time.Now()
		at := now.Format("15:04:05.000")
		c.mu.Lock()
		var still []healEvent
		for _, h := range c.healing {
			d, id := doc, ""
			if h.i < len(c.machines) {
				id = c.machines[h.i]
			} else {
				d, id = lx, c.lxd.machine
			}
			if machineConverged(d, id) {
				c.reconnects = append(c.reconnects, now.Sub(h.at))
			} else {
				still = append(still, h)
			}
		}
		c.healing = still
		for model, doc := range map[string]statusDoc{"default": doc, lxModel: lx} {
			for app, a := range doc.Applications {
				for name, u := range a.Units {
					if u.JujuStatus.Current == "lost" {
						c.lostSeen = append(c.lostSeen, fmt.Sprintf("%s: %s (model %s, application %s) shown lost: %q", at, name, model, app, u.JujuStatus.Message))
					}
				}
			}
			for id, m := range doc.Machines {
				if m.JujuStatus.Current == "down" {
					c.lostSeen = append(c.lostSeen, fmt.Sprintf("%s: machine %s (model %s) shown down", at, id, model))
				}
			}
		}
		c.mu.Unlock()
	}
}

// machineConverged reports whether status shows machine id started and
// every unit on it active and idle.
func machineConverged(doc statusDoc, id string) bool {
	if doc.Machines[id].JujuStatus.Current != "started" {
		return false
	}
	for _, a := range doc.Applications {
		for _, u := range a.Units {
			if u.Machine == id && (u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle") {
				return false
			}
		}
	}
	return true
}

func (c *chaosRun) stopMonitor() {
	close(c.monStop)
	<-c.monDone
}

func (c *chaosRun) neverLostCheck() chaos.Check {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.lostSeen
	if len(v) > 10 {
		v = append(v[:10:10], fmt.Sprintf("... and %d more", len(c.lostSeen)-10))
	}
	return chaos.Check{Name: "no agent shown lost/down (cuts < lost-after)", Violations: v,
		Detail: fmt.Sprintf("partitions and pauses ≤ %v, lost-after %s", chaosMaxPartition, chaosLostAfter)}
}

// run carries out the schedule, each fault in its own goroutine, while
// the user operations run; it returns when every fault has healed.
func (c *chaosRun) run(sched []chaos.Fault, phase time.Duration) {
	start := time.Now()
	opsDone := make(chan struct{})
	stopOps := make(chan struct{})
	go func() {
		defer close(opsDone)
		c.userOps(stopOps)
	}()
	var wg sync.WaitGroup
	for _, f := range sched {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(start.Add(f.At)))
			c.inject(f)
		}()
	}
	wg.Wait()
	time.Sleep(time.Until(start.Add(phase)))
	close(stopOps)
	<-opsDone
	// Everything healed: every link up without toxics.
	for _, p := range c.proxies {
		p.Toxics.ResetToxics(context.Background())
		if err := startProxy(p); err != nil {
			c.t.Errorf("cannot re-enable proxy %s: %v", p.Name, err)
		}
	}
}

// inject carries out one fault and heals it.
func (c *chaosRun) inject(f chaos.Fault) {
	t := c.t
	ok := true
	began := time.Now()
	if f.Kind != chaos.ControllerKill && !f.Kind.IsLXD() && f.Kind != chaos.AgentKill && f.Kind != chaos.AgentPause {
		if !c.takeLink(f) {
			c.mu.Lock()
			c.skipped[f.Kind]++
			c.lastHeal = time.Now()
			c.mu.Unlock()
			return
		}
		defer c.releaseLink(f)
	}
	switch f.Kind {
	case chaos.ControllerKill:
		ok = c.killController(f.Duration)
	case chaos.AgentKill, chaos.AgentPause:
		pid := 0
		for deadline := time.Now().Add(10 * time.Second); pid == 0 && time.Now().Before(deadline); {
			if pid = agentPID(c.dirs[f.Machine]); pid == 0 {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if pid == 0 {
			ok = false
			break
		}
		if f.Kind == chaos.AgentKill {
			if ok = syscall.Kill(pid, syscall.SIGKILL) == nil; ok {
				c.agentDied(f.Machine, pid)
			}
			break
		}
		if ok = syscall.Kill(pid, syscall.SIGSTOP) == nil; ok {
			time.Sleep(f.Duration)
			syscall.Kill(pid, syscall.SIGCONT)
		}
	case chaos.ContainerFreeze, chaos.NICCut:
		ok = c.injectLXD(f)
	case chaos.Partition:
		p := c.proxies[f.Machine]
		p.Stop()
		time.Sleep(f.Duration)
		if err := startProxy(p); err != nil {
			t.Errorf("fault %d: cannot re-enable proxy %s: %v", f.Seq, p.Name, err)
		}
		c.mu.Lock()
		c.lastPartEnd = time.Now()
		c.healing = append(c.healing, healEvent{f.Machine, c.lastPartEnd})
		c.mu.Unlock()
	default:
		p := c.proxies[f.Machine]
		typ := map[chaos.Kind]string{chaos.Latency: "latency", chaos.Bandwidth: "bandwidth", chaos.Timeout: "timeout",
			chaos.ResetPeer: "reset_peer", chaos.Slicer: "slicer"}[f.Kind]
		streams := []string{"downstream"}
		if f.Kind == chaos.Latency || f.Kind == chaos.Slicer {
			streams = append(streams, "upstream")
		}
		var names []string
		for _, s := range streams {
			name := fmt.Sprintf("%s-%d-%s", f.Kind, f.Seq, s)
			doc, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": s, "toxicity": 1.0, "attributes": f.Params})
			if _, err := p.Toxics.AddToxicJson(strings.NewReader(string(doc))); err != nil {
				t.Errorf("fault %d: cannot add toxic %s: %v", f.Seq, doc, err)
				continue
			}
			names = append(names, name)
		}
		time.Sleep(f.Duration)
		for _, n := range names {
			if err := p.Toxics.RemoveToxic(context.Background(), n); err != nil {
				t.Errorf("fault %d: cannot remove toxic %s: %v", f.Seq, n, err)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		c.injected[f.Kind]++
		c.faultsAt = append(c.faultsAt, began)
	} else {
		c.skipped[f.Kind]++
	}
	c.lastHeal = time.Now()
}

// takeLink records a link fault on its proxy unless it would share the
// proxy with a slicer: toxiproxy (v2.12) can deadlock removing a slicer
// toxic, or another toxic or stopping the proxy while a slicer runs on
// it (its Pipe sends to its output without heeding the interrupt; seed 7
// with LXD hung on it for good). Such a fault is skipped, and reported
// so.
func (c *chaosRun) takeLink(f chaos.Fault) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.linkActive == nil {
		c.linkActive = map[int]map[chaos.Kind]int{}
	}
	act := c.linkActive[f.Machine]
	if act == nil {
		act = map[chaos.Kind]int{}
		c.linkActive[f.Machine] = act
	}
	others := 0
	for k, n := range act {
		if k != f.Kind {
			others += n
		}
	}
	if act[chaos.Slicer] > 0 || (f.Kind == chaos.Slicer && others > 0) {
		return false
	}
	act[f.Kind]++
	return true
}

func (c *chaosRun) releaseLink(f chaos.Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.linkActive[f.Machine][f.Kind]--
}

// killController SIGKILLs the controller, waits down, and starts it again
// as bootstrap does.
func (c *chaosRun) killController(down time.Duration) bool {
	dir := filepath.Join(c.e.home, "controller")
	data, err := os.ReadFile(filepath.Join(dir, "trouped.pid"))
	if err != nil {
		c.t.Errorf("controller kill: %v", err)
		return false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		c.t.Errorf("controller kill: pid %d: %v", pid, err)
		return false
	}
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil && !zombieProc(pid); {
		if time.Now().After(deadline) {
			c.t.Errorf("controller pid %d survived SIGKILL for 10s", pid)
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(down)
	c.startController()
	return true
}

func (c *chaosRun) startController() {
	dir := filepath.Join(c.e.home, "controller")
	logf, err := os.OpenFile(filepath.Join(dir, "trouped.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Errorf("controller restart: %v", err)
		return
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(c.e.bin, "trouped"), "controller", "--data-dir", dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		c.t.Errorf("controller restart: %v", err)
		return
	}
	go cmd.Wait() // reap; the test's cleanup kills whatever is left
	c.mu.Lock()
	c.ctlStarted = time.Now()
	c.mu.Unlock()
	if err := os.WriteFile(filepath.Join(dir, "trouped.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		c.t.Errorf("controller restart: %v", err)
	}
}

// agentDied waits (polling closely) for machine i's SIGKILLed agent pid
// to be gone and records when it was seen so: from then on the machine
// lock it held is gone too.
func (c *chaosRun) agentDied(i, pid int) {
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil && !zombieProc(pid); {
		if time.Now().After(deadline) {
			c.t.Errorf("machine agent pid %d survived SIGKILL for 10s", pid)
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.mu.Lock()
	c.agentKills[c.machines[i]] = append(c.agentKills[c.machines[i]], time.Now())
	c.mu.Unlock()
}

// zombieProc reports whether pid has exited but is not yet reaped.
func zombieProc(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// userOps issues user operations until stop, recording each outcome:
// acknowledged (exit 0) or unknown (the write may or may not have been
// applied).
func (c *chaosRun) userOps(stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(c.seed, 2))
	nextUnitTo := 0
	for {
		select {
		case <-stop:
			return
		case <-time.After(time.Duration(1500+rng.IntN(2000)) * time.Millisecond):
		}
		c.opSeq++
		n := c.opSeq
		switch k := rng.IntN(10); {
		case k < 2, k < 4:
			app := "kvstore"
			if k >= 2 {
				app = "kvclient"
			}
			v := fmt.Sprintf("v%d", n)
			if app == "kvclient" && c.lxd != nil && n%2 == 0 {
				app = lxApp // half of kvclient's writes go to the LXD machine's application
			}
			r := c.e.troupe(45*time.Second, c.configArgs(app, "flavour="+v)...)
			c.record("config", r.code == 0)
			c.mu.Lock()
			c.configs[app] = append(c.configs[app], configWrite{v, r.code == 0})
			c.mu.Unlock()
		case k < 6:
			extra := len(c.added) + c.addUnsure - len(c.removed)
			if extra >= 3 {
				continue
			}
			m := c.machines[nextUnitTo%len(c.machines)]
			nextUnitTo++
			r := c.e.troupe(45*time.Second, "add-unit", "kvclient", "--to", m)
			c.record("add-unit", r.code == 0)
			if r.code != 0 {
				c.addUnsure++
				continue
			}
			for _, f := range strings.Fields(strings.TrimPrefix(strings.TrimSpace(r.stderr), "Added ")) {
				c.added[strings.TrimSuffix(f, ",")] = true
			}
		case k < 7:
			var cands []string
			for u := range c.added {
				if !c.removed[u] && !c.maybeRm[u] {
					cands = append(cands, u)
				}
			}
			if len(cands) == 0 {
				continue
			}
			sort.Strings(cands)
			u := cands[rng.IntN(len(cands))]
			r := c.e.troupe(45*time.Second, "remove-unit", u)
			c.record("remove-unit", r.code == 0)
			if r.code == 0 {
				c.removed[u] = true
			} else {
				c.maybeRm[u] = true
			}
		default:
			name := fmt.Sprintf("a%d", n)
			r := c.e.troupe(45*time.Second, "run", "actioner/0", "greet", "name="+name, "--background")
			c.record("action", r.code == 0)
			if r.code != 0 {
				continue
			}
			for _, l := range strings.Split(r.stdout, "\n") {
				if f := strings.Fields(l); len(f) == 5 && f[0] == "-" && f[1] == "task" {
					c.mu.Lock()
					c.actions[f[2]] = name
					c.mu.Unlock()
				}
			}
		}
	}
}

// configArgs is `config [-m lx] app arg`: app in its model.
func (c *chaosRun) configArgs(app, arg string) []string {
	if app == lxApp {
		return []string{"config", "-m", lxModel, app, arg}
	}
	return []string{"config", app, arg}
}

func (c *chaosRun) record(op string, acked bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if acked {
		c.ops[op+"-acked"]++
	} else {
		c.ops[op+"-unacknowledged"]++
	}
}

// finalState is what convergence waits for and the checks read.
type finalState struct {
	doc     statusDoc
	config  map[string]string // app -> flavour the controller holds
	tasks   map[string]taskJSON
	pending []string // what has not converged yet
	// configLag and relationLag are the parts of pending about the
	// final config not seen in config-changed and relation data not as
	// the charms imply; they are their own invariants.
	configLag, relationLag []string
}

// observe reads the final state and lists what is not converged.
func (c *chaosRun) observe() finalState {
	var s finalState
	doc, _, err := c.e.status()
	if err != nil {
		s.pending = append(s.pending, "status: "+err.Error())
		return s
	}
	s.doc = doc
	for _, app := range []string{"kvstore", "kvclient", "actioner"} {
		units := doc.Applications[app].Units
		if len(units) == 0 {
			s.pending = append(s.pending, app+" has no units")
		}
		for name, u := range units {
			if u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" {
				s.pending = append(s.pending, fmt.Sprintf("%s is %s/%s", name, u.WorkloadStatus.Current, u.JujuStatus.Current))
			}
		}
	}
	for id, m := range doc.Machines {
		if m.JujuStatus.Current != "started" {
			s.pending = append(s.pending, fmt.Sprintf("machine %s is %s", id, m.JujuStatus.Current))
		}
	}
	if c.lxd != nil {
		lx, err := c.lxStatus()
		if err != nil {
			s.pending = append(s.pending, err.Error())
			return s
		}
		if m := lx.Machines[c.lxd.machine]; m.JujuStatus.Current != "started" {
			s.pending = append(s.pending, fmt.Sprintf("LXD machine %s is %q", c.lxd.machine, m.JujuStatus.Current))
		}
		if !appsReady(map[string]int{lxApp: 1})(lx) {
			s.pending = append(s.pending, fmt.Sprintf("%s (model %s) is not one active and idle unit: %+v", lxApp, lxModel, lx.Applications[lxApp].Units))
		}
	}
	for u := range c.added {
		_, there := doc.Applications["kvclient"].Units[u]
		if c.removed[u] && there {
			s.pending = append(s.pending, u+" removed (acknowledged) but still there")
		}
		if !c.removed[u] && !c.maybeRm[u] && !there {
			s.pending = append(s.pending, u+" added (acknowledged) but absent")
		}
	}
	s.config = map[string]string{}
	apps := []string{"kvstore", "kvclient"}
	if c.lxd != nil {
		apps = append(apps, lxApp)
	}
	for _, app := range apps {
		r := c.e.troupe(commandTimeout, c.configArgs(app, "flavour")...)
		if r.code != 0 {
			s.pending = append(s.pending, "config "+app+": "+r.stderr)
			continue
		}
		v := strings.TrimSpace(r.stdout)
		s.config[app] = v
		ledgers, units := c.ledgers, doc.Applications[app].Units
		if app == lxApp {
			ledgers, units = c.lxd.ledgers, map[string]unitStatus{lxApp + "/0": {}}
		}
		for name := range units {
			if got := lastConfig(c.t, ledgers, name); got != v {
				s.configLag = append(s.configLag, fmt.Sprintf("%s last saw flavour %q in config-changed, the controller holds %q", name, got, v))
			}
		}
	}
	s.relationLag = c.relationPending(doc)
	s.pending = append(append(s.pending, s.configLag...), s.relationLag...)
	s.tasks = map[string]taskJSON{}
	for id := range c.actions {
		r := c.e.troupe(commandTimeout, "show-task", id, "--format", "json")
		var tj taskJSON
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &tj) != nil {
			s.pending = append(s.pending, "show-task "+id+": "+strings.TrimSpace(r.stderr))
			continue
		}
		s.tasks[id] = tj
		if tj.Status != "completed" && tj.Status != "failed" {
			s.pending = append(s.pending, fmt.Sprintf("task %s is %s", id, tj.Status))
		}
	}
	return s
}

// lastConfig is the flavour a unit's last config-changed recorded.
func lastConfig(t *testing.T, ledgers, unit string) string {
	_, data := readLedger(t, ledgers, unit)
	v := ""
	for _, d := range data {
		if d.Hook == "config-changed" {
			v = strings.TrimPrefix(d.Extra, "flavour=")
		}
	}
	return v
}

// relationPending lists how the ledgers' relation data differs from what
// the charms imply for the final membership: every kvclient unit saw
// every kvstore unit's host, the kvstore endpoint and, last, exactly the
// live kvstore units; every kvstore unit saw every live kvclient unit's
// want.
func (c *chaosRun) relationPending(doc statusDoc) []string {
	var out []string
	var stores, clients []string
	for u := range doc.Applications["kvstore"].Units {
		stores = append(stores, u)
	}
	for u := range doc.Applications["kvclient"].Units {
		clients = append(clients, u)
	}
	sort.Strings(stores)
	for _, cl := range clients {
		_, data := readLedger(c.t, c.ledgers, cl)
		for _, s := range stores {
			if !hasData(data, "db-relation-changed", s, "host="+s) {
				out = append(out, fmt.Sprintf("%s has not seen %s's host", cl, s))
			}
		}
		if !hasData(data, "db-relation-changed", "", "endpoint=kv://kvstore") {
			out = append(out, cl+" has not seen the kvstore endpoint")
		}
		members := ""
		for _, d := range data {
			if strings.HasPrefix(d.Extra, "members=") {
				members = strings.TrimPrefix(d.Extra, "members=")
			}
		}
		got := strings.Fields(members)
		sort.Strings(got)
		if !slices.Equal(got, stores) {
			out = append(out, fmt.Sprintf("%s last saw members %v, want %v", cl, got, stores))
		}
	}
	for _, s := range stores {
		_, data := readLedger(c.t, c.ledgers, s)
		for _, cl := range clients {
			if !hasData(data, "db-relation-changed", cl, "want=key-of-"+cl) {
				out = append(out, fmt.Sprintf("%s has not seen %s's want", s, cl))
			}
		}
	}
	return out
}

// converge waits for the final state after the faults healed, then checks
// the invariants on it.
func (c *chaosRun) converge(phase time.Duration) chaos.Report {
	c.mu.Lock()
	healed, partEnd := c.lastHeal, c.lastPartEnd
	c.mu.Unlock()
	if partEnd.IsZero() {
		partEnd = healed
	}
	deadline := time.Now().Add(chaosConverge)
	var s finalState
	lastLog := time.Now()
	for {
		s = c.observe()
		if len(s.pending) == 0 || time.Now().After(deadline) {
			break
		}
		if time.Since(lastLog) > 30*time.Second {
			c.t.Logf("not converged yet %.0fs after the faults: %s", time.Since(healed).Seconds(), strings.Join(s.pending[:min(5, len(s.pending))], "; "))
			lastLog = time.Now()
		}
		time.Sleep(time.Second)
	}
	converged := time.Now()
	r := chaos.Report{Seed: c.seed, Duration: phase, Injected: c.injected, Skipped: c.skipped, Ops: c.ops,
		Converge: converged.Sub(healed), ConvergeAfterPartition: converged.Sub(partEnd), Figures: map[string]time.Duration{}}
	conv := chaos.Check{Name: "converged within " + chaosConverge.String(), Detail: fmt.Sprintf("%.1fs after the last fault", r.Converge.Seconds())}
	for _, p := range s.pending {
		if !slices.Contains(s.configLag, p) && !slices.Contains(s.relationLag, p) {
			conv.Violations = append(conv.Violations, p)
		}
	}
	units := 0
	for _, app := range []string{"kvstore", "kvclient"} {
		units += len(s.doc.Applications[app].Units)
	}
	r.Checks = append(r.Checks, conv,
		chaos.Check{Name: "every unit saw the final config", Violations: s.configLag,
			Detail: fmt.Sprintf("%d units' last config-changed against the controller's value", units)},
		chaos.Check{Name: "relation data as the charms imply", Violations: s.relationLag,
			Detail: fmt.Sprintf("kvstore %d units × kvclient %d units: hosts, endpoint, members, wants",
				len(s.doc.Applications["kvstore"].Units), len(s.doc.Applications["kvclient"].Units))},
		c.ackedWritesCheck(s), c.hooksOnceCheck(), c.actionsCheck(s))
	return r
}

// ackedWritesCheck: the final config of each application is its last
// acknowledged value or a value written after it whose acknowledgement
// was lost; acknowledged unit additions and removals hold.
func (c *chaosRun) ackedWritesCheck(s finalState) chaos.Check {
	ch := chaos.Check{Name: "no acknowledged write lost"}
	acked := 0
	for app, writes := range c.configs {
		last := -1
		for i, w := range writes {
			if w.acked {
				last = i
				acked++
			}
		}
		got, ok := s.config[app]
		if !ok {
			ch.Violations = append(ch.Violations, "cannot read "+app+"'s final config")
			continue
		}
		allowed := map[string]bool{}
		from := 0
		if last < 0 {
			allowed["plain"] = true // the default: nothing acknowledged
		} else {
			from = last
		}
		for _, w := range writes[from:] {
			allowed[w.value] = true // the last acknowledged, or a later unacknowledged one
		}
		if !allowed[got] {
			lastAcked := "none"
			if last >= 0 {
				lastAcked = writes[last].value
			}
			ch.Violations = append(ch.Violations, fmt.Sprintf("%s flavour is %q; the last acknowledged write was %q", app, got, lastAcked))
		}
	}
	for u := range c.added {
		_, there := s.doc.Applications["kvclient"].Units[u]
		switch {
		case c.removed[u] && there:
			ch.Violations = append(ch.Violations, u+": remove-unit acknowledged, unit still there")
		case !c.removed[u] && !c.maybeRm[u] && !there:
			ch.Violations = append(ch.Violations, u+": add-unit acknowledged, unit absent")
		}
	}
	ch.Detail = fmt.Sprintf("%d acknowledged config writes, %d units added, %d removed (client-side history)", acked, len(c.added), len(c.removed))
	return ch
}

// hooksOnceCheck: no hook that runs once per unit (install, start, stop,
// remove, relation-created/-broken, joined/departed per remote unit) ran
// again after a committed run.
func (c *chaosRun) hooksOnceCheck() chaos.Check {
	ch := chaos.Check{Name: "no committed hook re-ran (charm ledgers)"}
	committed := committedContexts(c.t, c.e.home)
	dirs := []string{c.ledgers}
	if c.lxd != nil {
		lx, err := c.committedInContainer()
		if err != nil {
			ch.Violations = append(ch.Violations, err.Error())
		}
		for k := range lx {
			committed[k] = true
		}
		dirs = append(dirs, c.lxd.ledgers)
	}
	if len(committed) == 0 {
		ch.Violations = append(ch.Violations, "no \"hook committed\" lines in the agents' logs: the check would be vacuous")
	}
	type ledger struct{ dir, file string }
	var files []ledger
	for _, d := range dirs {
		fs, _ := os.ReadDir(d)
		for _, f := range fs {
			files = append(files, ledger{d, f.Name()})
		}
	}
	hooksN := 0
	for _, f := range files {
		unit := f.file
		if i := strings.LastIndexByte(unit, '-'); i > 0 {
			unit = unit[:i] + "/" + unit[i+1:]
		}
		hooks, _ := readLedger(c.t, f.dir, unit)
		hooksN += len(hooks)
		seen := map[string]string{}
		for _, h := range hooks {
			id, once := onceIdentity(h)
			if !once {
				continue
			}
			if prev, ok := seen[id]; ok {
				ch.Violations = append(ch.Violations, fmt.Sprintf("%s: %s ran again (context %s) after its committed run (context %s)", unit, id, h.Context, prev))
			}
			if committed[h.Context] {
				seen[id] = h.Context
			}
		}
		if _, ok := seen["install"]; !ok {
			ch.Violations = append(ch.Violations, unit+": no committed install in its ledger")
		}
	}
	ch.Detail = fmt.Sprintf("%d units, %d hook runs, %d committed", len(files), hooksN, len(committed))
	return ch
}

// actionsCheck: every acknowledged action has a result — completed with
// the greeting its parameters imply, or failed because an agent restart
// interrupted it (an interrupted action is failed, never re-run) — and
// no action ran twice.
func (c *chaosRun) actionsCheck(s finalState) chaos.Check {
	ch := chaos.Check{Name: "every acknowledged action has its result"}
	completed, interrupted := 0, 0
	for id, name := range c.actions {
		tj, ok := s.tasks[id]
		switch {
		case !ok:
			ch.Violations = append(ch.Violations, "task "+id+": no result")
		case tj.Status == "completed":
			g, _ := tj.Results["greeting"].(map[string]any)
			if g == nil || g["text"] != "hello "+name {
				ch.Violations = append(ch.Violations, fmt.Sprintf("task %s: results %v, want greeting.text %q", id, tj.Results, "hello "+name))
			}
			completed++
		case tj.Status == "failed" && strings.Contains(tj.Message, "interrupted"):
			interrupted++
		default:
			ch.Violations = append(ch.Violations, fmt.Sprintf("task %s: %s %q", id, tj.Status, tj.Message))
		}
	}
	runs := map[string]int{}
	for _, path := range findFiles(c.t, c.e.home, "action-ledger") {
		for _, l := range readLines(c.t, path) {
			runs[l]++
		}
	}
	for l, n := range runs {
		if n > 1 {
			ch.Violations = append(ch.Violations, fmt.Sprintf("action run %q recorded %d times", l, n))
		}
	}
	if len(c.actions) > 0 && completed == 0 {
		ch.Violations = append(ch.Violations, "no action completed")
	}
	ch.Detail = fmt.Sprintf("%d acknowledged, %d completed, %d interrupted by an agent restart", len(c.actions), completed, interrupted)
	return ch
}

// measure adds issue 8's AC5 figures: convergence after a 60 s partition
// of every link (with a config change made during it), and the time for
// every agent to reconnect after a controller SIGKILL and restart.
func (c *chaosRun) measure(r *chaos.Report) {
	t, e := c.t, c.e
	ready := func(doc statusDoc) bool {
		for _, m := range doc.Machines {
			if m.JujuStatus.Current != "started" {
				return false
			}
		}
		for _, a := range doc.Applications {
			for _, u := range a.Units {
				if u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" {
					return false
				}
			}
		}
		return len(doc.Machines) == chaosMachines
	}
	for _, p := range c.proxies {
		p.Stop()
	}
	cut := time.Now()
	e.mustTroupe(commandTimeout, "config", "kvstore", "flavour=during-60s-partition")
	time.Sleep(time.Until(cut.Add(60 * time.Second)))
	for _, p := range c.proxies {
		if err := startProxy(p); err != nil {
			t.Errorf("cannot re-enable proxy %s: %v", p.Name, err)
		}
	}
	healed := time.Now()
	deadline := healed.Add(chaosConverge)
	for {
		doc, _, err := e.status()
		if err == nil && ready(doc) {
			seen := true
			for u := range doc.Applications["kvstore"].Units {
				if lastConfig(t, c.ledgers, u) != "during-60s-partition" {
					seen = false
				}
			}
			if seen {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("not converged within %v of a 60s partition ending", chaosConverge)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	r.Figures["converged after a 60s partition of every link (status active/idle, config made during it seen)"] = time.Since(healed)

	dir := filepath.Join(e.home, "controller")
	data, _ := os.ReadFile(filepath.Join(dir, "trouped.pid"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	start := time.Now()
	syscall.Kill(pid, syscall.SIGKILL)
	for syscall.Kill(pid, 0) == nil && !zombieProc(pid) {
		time.Sleep(20 * time.Millisecond)
	}
	c.startController()
	var answered time.Duration
	deadline = time.Now().Add(chaosConverge)
	for {
		doc, _, err := e.status()
		if err == nil && answered == 0 {
			answered = time.Since(start)
		}
		if err == nil && ready(doc) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("agents not reconnected within %v of a controller restart", chaosConverge)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.Figures["controller SIGKILL+restart: status answered again"] = answered
	r.Figures[fmt.Sprintf("controller SIGKILL+restart: all %d machine and %d unit agents reconnected", chaosMachines, len(c.liveUnits()))] = time.Since(start)
}

func (c *chaosRun) liveUnits() []string {
	doc, _, _ := c.e.status()
	var out []string
	for _, a := range doc.Applications {
		for u := range a.Units {
			out = append(out, u)
		}
	}
	return out
}
