package tests

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	lxdclient "github.com/canonical/lxd/client"
	"github.com/canonical/lxd/shared/api"

	"github.com/troupe-dev/troupe/providers/lxd"
)

// lxdStatus is the part of `troupe status --format=json` this test reads.
type lxdStatus struct {
	Machines map[string]struct {
		JujuStatus  statusInfo `json:"juju-status"`
		InstanceID  string     `json:"instance-id"`
		IPAddresses []string   `json:"ip-addresses"`
		DNSName     string     `json:"dns-name"`
	} `json:"machines"`
	Applications map[string]struct {
		Units map[string]struct {
			WorkloadStatus statusInfo `json:"workload-status"`
			JujuStatus     statusInfo `json:"juju-status"`
			Machine        string     `json:"machine"`
			PublicAddress  string     `json:"public-address"`
		} `json:"units"`
	} `json:"applications"`
}

func (e *env) lxdStatus() (lxdStatus, string) {
	e.t.Helper()
	var doc lxdStatus
	r := e.troupe(commandTimeout, "status", "--format=json")
	if r.err != nil || r.code != 0 {
		return doc, r.String()
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		return doc, r.stdout
	}
	return doc, r.stdout
}

func waitLXD(t *testing.T, e *env, limit time.Duration, what string, cond func(lxdStatus) bool) lxdStatus {
	t.Helper()
	deadline := time.Now().Add(limit)
	var raw string
	for time.Now().Before(deadline) {
		var doc lxdStatus
		doc, raw = e.lxdStatus()
		if cond(doc) {
			return doc
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("timed out after %s waiting for %s; last status:\n%s", limit, what, raw)
	return lxdStatus{}
}

// socketProxy forwards a unix socket to LXD's. Stopping it closes every
// connection, so to the controller behind it LXD is down; nothing else on
// the host notices.
type socketProxy struct {
	path, target string
	mu           sync.Mutex
	l            net.Listener
	conns        map[net.Conn]bool
	wg           sync.WaitGroup
}

func (p *socketProxy) start(t *testing.T) {
	t.Helper()
	os.Remove(p.path)
	l, err := net.Listen("unix", p.path)
	if err != nil {
		t.Fatalf("cannot listen on %s: %v", p.path, err)
	}
	p.mu.Lock()
	p.l = l
	if p.conns == nil {
		p.conns = map[net.Conn]bool{}
	}
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("unix", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			p.wg.Go(func() { io.Copy(up, c); up.Close() })
			p.wg.Go(func() { io.Copy(c, up); c.Close() })
		}
	})
}

func (p *socketProxy) stop() {
	p.mu.Lock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
	p.mu.Unlock()
	p.wg.Wait()
	os.Remove(p.path)
}

// TestLXDModel deploys hello -n 2 into an LXD model: add-model refuses
// while LXD is unreachable (saying which socket and how to set it up);
// with LXD down to the controller the machines show status error with the
// provider's message, and once it is back the provisioner retries and
// both units go active in containers whose addresses status shows;
// remove-unit deletes its container, destroy-controller the rest.
func TestLXDModel(t *testing.T) {
	realSock := lxd.SocketPath("")
	c, err := lxdclient.ConnectLXDUnix(realSock, nil)
	if err != nil {
		t.Fatalf("this test needs a running LXD (socket %s): %v\nSet it up as root with: scripts/lxd/setup.sh && make lxd-image", realSock, err)
	}
	if _, _, err := c.GetImageAlias(lxd.DefaultImage); err != nil {
		t.Fatalf("LXD has no image %q (%v): build it as root with `make lxd-image`", lxd.DefaultImage, err)
	}
	e := newEnv(t)
	proxy := &socketProxy{path: filepath.Join(e.outDir, "lxd.sock"), target: realSock}
	t.Cleanup(proxy.stop)
	t.Setenv("LXD_SOCKET", proxy.path) // inherited by the controller

	port := freePort(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(port), "--agent-check-interval", "2s")
	var boot struct {
		UUID string `json:"uuid"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(e.home, "controller", "bootstrap.json"))), &boot); err != nil || boot.UUID == "" {
		t.Fatalf("cannot read the controller's uuid: %v", err)
	}
	t.Cleanup(func() { deleteContainers(t, c, boot.UUID) })

	// LXD unreachable: a clear refusal, no model.
	r := e.troupe(commandTimeout, "add-model", "lx", "--cloud", "lxd")
	if r.code == 0 {
		t.Fatalf("add-model --cloud lxd succeeded with LXD unreachable: %s", r)
	}
	for _, want := range []string{proxy.path, "scripts/lxd/setup.sh"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("add-model with LXD unreachable said %q; want it to mention %q", r.stderr, want)
		}
	}

	proxy.start(t)
	e.mustTroupe(commandTimeout, "add-model", "lx", "--cloud", "lxd")
	proxy.stop()
	start := time.Now()
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "-n", "2")

	t.Run("provider error is machine status error", func(t *testing.T) {
		waitLXD(t, e, 90*time.Second, "both machines in error with the provider's message", func(d lxdStatus) bool {
			n := 0
			for _, m := range d.Machines {
				if m.JujuStatus.Current == "error" && strings.Contains(m.JujuStatus.Message, proxy.path) {
					n++
				}
			}
			return n == 2
		})
	})

	proxy.start(t)
	fixed := time.Now()
	doc := waitLXD(t, e, 5*time.Minute, "both hello units active and idle after LXD came back", func(d lxdStatus) bool {
		units := d.Applications["hello"].Units
		if len(units) != 2 {
			return false
		}
		for _, u := range units {
			if u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" {
				return false
			}
		}
		return true
	})
	t.Logf("deploy to active on LXD: %v after LXD came back (%v since deploy)", time.Since(fixed).Round(time.Second), time.Since(start).Round(time.Second))

	containerOf := map[string]string{}
	for name, u := range doc.Applications["hello"].Units {
		m, ok := doc.Machines[u.Machine]
		if !ok || m.InstanceID == "" {
			t.Fatalf("unit %s is on machine %q with no instance in status", name, u.Machine)
		}
		containerOf[name] = lxd.ContainerName(m.InstanceID)
		st, _, err := c.GetInstanceState(containerOf[name])
		if err != nil {
			t.Fatalf("unit %s: its machine's instance %q is not an LXD container: %v", name, m.InstanceID, err)
		}
		if st.StatusCode != api.Running {
			t.Errorf("container %s of unit %s is %s, want Running", m.InstanceID, name, st.Status)
		}
		var ip string
		for _, a := range st.Network["eth0"].Addresses {
			if a.Family == "inet" && a.Scope == "global" {
				ip = a.Address
			}
		}
		if ip == "" || u.PublicAddress != ip || m.DNSName != ip || len(m.IPAddresses) == 0 || m.IPAddresses[0] != ip {
			t.Errorf("unit %s: container %s has address %q, status shows unit address %q and machine addresses %v / %q",
				name, m.InstanceID, ip, u.PublicAddress, m.IPAddresses, m.DNSName)
		}
	}

	e.mustTroupe(commandTimeout, "remove-unit", "hello/1")
	gone := containerOf["hello/1"]
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, _, err := c.GetInstance(gone)
		if api.StatusErrorCheck(err, 404) {
			break
		}
		if time.Now().After(deadline) {
			raw, _ := e.lxdStatus()
			t.Fatalf("container %s of removed unit hello/1 still exists after 2m (err %v); status: %+v", gone, err, raw)
		}
		time.Sleep(time.Second)
	}
	if _, _, err := c.GetInstance(containerOf["hello/0"]); err != nil {
		t.Errorf("removing hello/1 affected hello/0's container %s: %v", containerOf["hello/0"], err)
	}

	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
	if _, _, err := c.GetInstance(containerOf["hello/0"]); !api.StatusErrorCheck(err, 404) {
		t.Errorf("after destroy-controller, container %s still exists (err %v)", containerOf["hello/0"], err)
	}
}

// deleteContainers removes the containers of controller uuid.
func deleteContainers(t *testing.T, c lxdclient.InstanceServer, uuid string) {
	list, err := c.GetInstances(api.InstanceTypeContainer)
	if err != nil {
		t.Logf("cleanup: cannot list containers: %v", err)
		return
	}
	for _, in := range list {
		if in.Config[lxd.TagKey] != uuid {
			continue
		}
		if op, err := c.UpdateInstanceState(in.Name, api.InstanceStatePut{Action: "stop", Force: true, Timeout: -1}, ""); err == nil {
			_ = op.Wait()
		}
		op, err := c.DeleteInstance(in.Name)
		if err == nil {
			err = op.Wait()
		}
		if err != nil && !errors.Is(err, io.EOF) {
			t.Logf("cleanup: cannot delete %s: %v", in.Name, err)
		}
	}
}
