package tests

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/api"
)

// linkProxy is a TCP forwarder between one agent and the controller that
// a test can cut (close the listener and every open connection, so the
// agent sees resets and refused dials) and restore on the same port.
type linkProxy struct {
	t      *testing.T
	addr   string // listen address, fixed for the proxy's life
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newLinkProxy(t *testing.T, target string) *linkProxy {
	p := &linkProxy{t: t, addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), target: target, conns: map[net.Conn]struct{}{}}
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *linkProxy) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port can linger briefly after a close
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy cannot listen again on %s: %v", p.addr, err)
	}
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.forward(c)
		}
	}()
}

func (p *linkProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *linkProxy) forward(in net.Conn) {
	out, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		in.Close()
		return
	}
	if !p.track(in) || !p.track(out) {
		in.Close()
		out.Close()
		return
	}
	pipe := func(dst, src net.Conn) {
		defer p.wg.Done()
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
	}
	p.wg.Add(2)
	go pipe(out, in)
	go pipe(in, out)
}

// down cuts the link: no new connections, every open one closed.
func (p *linkProxy) down() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestOfflineAgentCommitsArriveOnceInOrder cuts one machine agent off the
// controller while its unit's update-status hook (every second) is
// committing a counter through the outbox, SIGKILLs the agent while the
// link is down (the provisioner restarts it, still behind the cut link),
// then restores the link. It checks that the workload's unit goes on
// afterwards, that the committed counters are strictly increasing (each
// committed run ran once: no run is repeated after the restart), and
// that the controller's copy of the counter, as the next hook reads it,
// is the last counter committed — the commit made while offline arrived.
func TestOfflineAgentCommitsArriveOnceInOrder(t *testing.T) {
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "model-config", "update-status-hook-interval=1s")
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/offline", "--config", "ledger-dir="+ledgers)
	doc := waitFor(t, e, readyTimeout, "offline/0 active", appsReady(map[string]int{"offline": 1}))
	machine := doc.Applications["offline"].Units["offline/0"].Machine
	dirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*-machine-"+machine))
	if len(dirs) != 1 {
		t.Fatalf("machine dir of offline/0: %v", dirs)
	}
	ledger := filepath.Join(ledgers, "offline-0")
	waitLedger := func(what string, ok func([]string) bool) []string {
		deadline := time.Now().Add(30 * time.Second)
		for {
			lines, _ := os.ReadFile(ledger)
			l := strings.Split(strings.TrimSpace(string(lines)), "\n")
			if ok(l) {
				return l
			}
			if time.Now().After(deadline) {
				t.Fatalf("ledger: %s not seen within 30s:\n%s", what, lines)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	ends := func(l []string) int {
		n := 0
		for _, s := range l {
			if strings.HasPrefix(s, "end ") {
				n++
			}
		}
		return n
	}
	waitLedger("3 update-status runs", func(l []string) bool { return ends(l) >= 3 })

	// Put the proxy between the machine's agents and the controller:
	// rewrite every agent.conf under the machine and restart the agent.
	var controller string
	var confDirs []string
	filepath.Walk(dirs[0], func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == api.AgentConfigFile {
			confDirs = append(confDirs, filepath.Dir(path))
		}
		return nil
	})
	for _, d := range confDirs {
		c, err := api.ReadAgentConfig(d)
		if err != nil {
			t.Fatal(err)
		}
		controller = c.Addresses[0]
	}
	proxy := newLinkProxy(t, controller)
	for _, d := range confDirs {
		c, _ := api.ReadAgentConfig(d)
		c.Addresses = []string{proxy.addr}
		c.BackoffCap = "2s"
		if err := api.WriteAgentConfig(d, c); err != nil {
			t.Fatal(err)
		}
	}
	restart := func() {
		old := agentPID(dirs[0])
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatalf("cannot kill machine agent %d: %v", old, err)
		}
		deadline := time.Now().Add(45 * time.Second)
		for {
			if pid := agentPID(dirs[0]); pid != old && pid != 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("machine agent not restarted within 45s")
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	restart()
	before := ends(waitLedger("runs through the proxy", func(l []string) bool { return len(l) > 0 }))
	waitLedger("a run through the proxy", func(l []string) bool { return ends(l) > before+1 })

	// Cut the link mid-run (runs take a second, one starts every second).
	proxy.down()
	cutAt := len(readLines(t, ledger))
	time.Sleep(8 * time.Second)
	killAt := len(readLines(t, ledger))
	restart() // SIGKILL while offline; it comes back still cut off
	time.Sleep(10 * time.Second)
	all := readLines(t, ledger)
	offline := all[cutAt:]
	if n := ends(all[cutAt:killAt]); n < 3 {
		t.Errorf("only %d update-status runs committed in the 8s offline before the restart, want hooks to keep running offline:\n%s", n, strings.Join(offline, "\n"))
	}
	if n := ends(all[killAt:]); n < 3 {
		t.Errorf("only %d update-status runs committed in the 10s offline after the agent restart, want hooks to keep running offline:\n%s", n, strings.Join(offline, "\n"))
	}
	proxy.up()

	// After the link returns hooks go on; the first run that starts
	// after everything was delivered reads the last committed counter.
	lastOffline := 0
	for _, l := range all[killAt:] {
		if f := strings.Fields(l); f[0] == "end" {
			lastOffline, _ = strconv.Atoi(f[1])
		}
	}
	// A run starting after the link returned reads the controller's n:
	// once the offline commits are delivered it is the last one.
	final := waitLedger("a run reading the last offline commit", func(l []string) bool {
		for _, s := range l[len(all):] {
			if f := strings.Fields(s); f[0] == "begin" {
				if n, err := strconv.Atoi(f[2]); err == nil && n >= lastOffline {
					return true
				}
			}
		}
		return false
	})
	// In order: the controller's n, as successive runs read it, never
	// goes back (commits applied out of order or an old one re-applied
	// after a newer would).
	seenPrev := 0
	for _, s := range final {
		if f := strings.Fields(s); f[0] == "begin" && f[2] != "none" {
			n, _ := strconv.Atoi(f[2])
			if n < seenPrev {
				t.Errorf("controller's n went back from %d to %d:\n%s", seenPrev, n, strings.Join(final, "\n"))
			}
			seenPrev = n
		}
	}
	t.Logf("ledger lines while offline (%d): %v", len(offline), offline)
	if t.Failed() {
		e.dumpLogs()
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}
