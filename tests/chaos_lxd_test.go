package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	lxdclient "github.com/canonical/lxd/client"
	lxdapi "github.com/canonical/lxd/shared/api"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/providers/lxd"
	"github.com/troupe-dev/troupe/tests/chaos"
)

// The chaos suite's LXD machine. With TROUPE_CHAOS_LXD=auto (make chaos)
// and a usable LXD (running, with the machine image), the run adds a
// model on the lxd cloud with one machine in a container, its agent's
// link through a toxiproxy of its own like the local machines', and a
// kvstore application (lxstore) on it whose ledgers and spans are host
// directories mounted into the container. That machine takes the link
// faults and the LXD kinds (container freeze, NIC cut); the invariants
// cover its model too. TROUPE_CHAOS_LXD=1 requires LXD; unset (make
// test) runs without.

const (
	lxModel = "lx"
	lxApp   = "lxstore"
)

// chaosLXD is the run's machine in an LXD container.
type chaosLXD struct {
	client    lxdclient.InstanceServer
	container string
	machine   string // its id in lxModel
	ledgers   string // host dirs mounted at the same paths in the container
	spans     string
}

// lxdProbe decides whether this run has an LXD machine: "" when it
// does, else why not (for the report).
func lxdProbe() (why string, required bool) {
	switch mode := os.Getenv("TROUPE_CHAOS_LXD"); mode {
	case "":
		return "not asked for (TROUPE_CHAOS_LXD unset; make chaos sets auto)", false
	case "auto", "1":
		required = mode == "1"
	default:
		return fmt.Sprintf("TROUPE_CHAOS_LXD=%q: use auto, 1 or nothing", mode), true
	}
	sock := lxd.SocketPath("")
	c, err := lxdclient.ConnectLXDUnix(sock, nil)
	if err != nil {
		return fmt.Sprintf("LXD unreachable at %s (%v); %s", sock, err, lxd.SetupHint), required
	}
	if _, _, err := c.GetImageAlias(lxd.DefaultImage); err != nil {
		return fmt.Sprintf("LXD has no image %s (%v): build it with `make lxd-image`", lxd.DefaultImage, err), required
	}
	return "", required
}

// lxStatus is `status -m lx`.
func (c *chaosRun) lxStatus() (statusDoc, error) {
	var doc statusDoc
	r := c.e.troupe(commandTimeout, "status", "-m", lxModel, "--format=json")
	if r.err != nil || r.code != 0 {
		return doc, fmt.Errorf("status -m %s: exit %d, %v: %s", lxModel, r.code, r.err, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		return doc, fmt.Errorf("status -m %s: %v", lxModel, err)
	}
	return doc, nil
}

// setUpLXD adds the LXD machine behind a proxy of srv, and lxstore on it.
func (c *chaosRun) setUpLXD(srv *toxiproxy.ApiServer, apiPort int) {
	t, e := c.t, c.e
	cl, err := lxdclient.ConnectLXDUnix(lxd.SocketPath(""), nil)
	if err != nil {
		t.Fatalf("LXD: %v", err)
	}
	var boot struct {
		UUID string `json:"uuid"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(e.home, "controller", "bootstrap.json"))), &boot); err != nil || boot.UUID == "" {
		t.Fatalf("cannot read the controller's uuid: %v", err)
	}
	t.Cleanup(func() { deleteContainers(t, cl, boot.UUID) })
	e.mustTroupe(commandTimeout, "add-model", lxModel, "--cloud", "lxd", "--no-switch")
	e.mustTroupe(commandTimeout, "add-machine", "-m", lxModel)
	var id, instance string
	for deadline := time.Now().Add(5 * time.Minute); id == ""; {
		r := e.troupe(commandTimeout, "status", "-m", lxModel, "--format=json")
		var doc lxdStatus
		if r.code == 0 && json.Unmarshal([]byte(r.stdout), &doc) == nil {
			for mid, m := range doc.Machines {
				if m.JujuStatus.Current == "started" && m.InstanceID != "" {
					id, instance = mid, m.InstanceID
				}
			}
		}
		if id == "" && time.Now().After(deadline) {
			t.Fatalf("the LXD machine did not start within 5m; last status:\n%s", r)
		}
		time.Sleep(time.Second)
	}
	x := &chaosLXD{client: cl, container: lxd.ContainerName(instance), machine: id,
		ledgers: filepath.Join(t.TempDir(), "ledgers"), spans: filepath.Join(t.TempDir(), "spans")}

	// The link: a proxy on the bridge address in front of the
	// controller's bridge listener; the agent's conf points at it.
	bridge, err := lxd.New(lxd.Config{}).BridgeAddress(context.Background())
	if err != nil {
		t.Fatalf("LXD bridge: %v", err)
	}
	p := toxiproxy.NewProxy(srv, "machine-"+lxModel+"-"+id, proxyListenAddrOn(t, bridge), net.JoinHostPort(bridge, strconv.Itoa(apiPort)))
	if err := startProxy(p); err != nil {
		t.Fatalf("cannot start the proxy of the LXD machine: %v", err)
	}
	t.Cleanup(p.Stop)
	confPath := path.Join(lxd.AgentDir, api.AgentConfigFile)
	rc, _, err := cl.GetInstanceFile(x.container, confPath)
	if err != nil {
		t.Fatalf("cannot read %s in %s: %v", confPath, x.container, err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	os.WriteFile(filepath.Join(tmp, api.AgentConfigFile), data, 0o600)
	conf, err := api.ReadAgentConfig(tmp)
	if err != nil {
		t.Fatal(err)
	}
	conf.Addresses = []string{p.Listen}
	conf.BackoffCap = "5s"
	if err := api.WriteAgentConfig(tmp, conf); err != nil {
		t.Fatal(err)
	}
	data = []byte(readFile(t, filepath.Join(tmp, api.AgentConfigFile)))
	if err := cl.CreateInstanceFile(x.container, confPath, lxdclient.InstanceFileArgs{
		Content: bytes.NewReader(data), Mode: 0o600, Type: "file", WriteMode: "overwrite"}); err != nil {
		t.Fatalf("cannot write %s in %s: %v", confPath, x.container, err)
	}
	if out, err := x.exec("systemctl", "restart", lxd.UnitName); err != nil {
		t.Fatalf("cannot restart the LXD machine's agent behind its proxy: %v: %s", err, out)
	}
	t.Logf("LXD machine %s (%s): agent.conf points at proxy %s -> %s", id, x.container, p.Listen, p.Upstream)

	// The charm's ledgers and spans: host dirs, mounted.
	for name, dir := range map[string]string{"chaos-ledgers": x.ledgers, "chaos-spans": x.spans} {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o777) // the container's root is an unprivileged uid here
		inst, etag, err := cl.GetInstance(x.container)
		if err != nil {
			t.Fatal(err)
		}
		inst.Devices[name] = map[string]string{"type": "disk", "source": dir, "path": dir}
		op, err := cl.UpdateInstance(x.container, inst.Writable(), etag)
		if err == nil {
			err = op.Wait()
		}
		if err != nil {
			t.Fatalf("cannot mount %s into %s: %v", dir, x.container, err)
		}
	}
	c.proxies = append(c.proxies, p)
	c.lxd = x
	e.mustTroupe(commandTimeout, "deploy", "-m", lxModel, "./testcharms/kvstore", lxApp, "--to", id,
		"--config", "ledger-dir="+x.ledgers, "--config", "span-dir="+x.spans)
	for deadline := time.Now().Add(readyTimeout); ; {
		doc, err := c.lxStatus()
		if err == nil && appsReady(map[string]int{lxApp: 1})(doc) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not active and idle on the LXD machine within %v (%v): %+v", lxApp, readyTimeout, err, doc)
		}
		time.Sleep(time.Second)
	}
}

// exec runs argv in the container (lxc exec), returning its output.
func (x *chaosLXD) exec(argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "lxc", append([]string{"exec", x.container, "--"}, argv...)...).CombinedOutput()
	return string(out), err
}

func (x *chaosLXD) setState(action string) error {
	op, err := x.client.UpdateInstanceState(x.container, lxdapi.InstanceStatePut{Action: action, Timeout: -1}, "")
	if err == nil {
		err = op.Wait()
	}
	if err != nil {
		return fmt.Errorf("cannot %s container %s: %w", action, x.container, err)
	}
	return nil
}

// veth is the host side of the container's eth0.
func (x *chaosLXD) veth() (string, error) {
	st, _, err := x.client.GetInstanceState(x.container)
	if err != nil {
		return "", fmt.Errorf("cannot read the state of %s: %w", x.container, err)
	}
	n, ok := st.Network["eth0"]
	if !ok || n.HostName == "" {
		return "", fmt.Errorf("container %s has no eth0 with a host-side name", x.container)
	}
	return n.HostName, nil
}

// injectLXD carries out a container fault and heals it.
func (c *chaosRun) injectLXD(f chaos.Fault) bool {
	x := c.lxd
	switch f.Kind {
	case chaos.ContainerFreeze:
		if err := x.setState("freeze"); err != nil {
			c.t.Errorf("fault %d: %v", f.Seq, err)
			return false
		}
		time.Sleep(f.Duration)
		if err := x.setState("unfreeze"); err != nil {
			c.t.Errorf("fault %d: %v", f.Seq, err)
		}
	case chaos.NICCut:
		veth, err := x.veth()
		if err != nil {
			c.t.Errorf("fault %d: %v", f.Seq, err)
			return false
		}
		if out, err := exec.Command("ip", "link", "set", veth, "down").CombinedOutput(); err != nil {
			c.t.Errorf("fault %d: ip link set %s down: %v: %s", f.Seq, veth, err, out)
			return false
		}
		time.Sleep(f.Duration)
		if out, err := exec.Command("ip", "link", "set", veth, "up").CombinedOutput(); err != nil {
			c.t.Errorf("fault %d: ip link set %s up: %v: %s", f.Seq, veth, err, out)
		}
	}
	return true
}

// committedInContainer is committedContexts for the LXD machine: the
// uniters' "hook committed" lines in its agent's journal.
func (c *chaosRun) committedInContainer() (map[string]bool, error) {
	out, err := c.lxd.exec("journalctl", "-u", lxd.UnitName, "--no-pager", "-o", "cat")
	if err != nil {
		return nil, fmt.Errorf("journalctl in %s: %v: %s", c.lxd.container, err, out)
	}
	m := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if g := committedRE.FindStringSubmatch(l); g != nil {
			m[strings.Trim(g[1], `"`)] = true
		}
	}
	return m, nil
}
