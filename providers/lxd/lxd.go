// Package lxd is the provider whose instances are LXD system containers,
// created from a locally built image (`make lxd-image`). The agent binary
// (and the tools that go next to it), a systemd unit that runs it, and
// the instance's files are pushed into the container before it first
// boots; systemd then keeps the agent running. The agent dials the
// controller over the LXD bridge, so the controller must listen on an
// address of that bridge (BridgeAddress).
//
// Instance id I is container ContainerName(I). Instances carry the config
// key user.troupe.controller = Config.Tag; the
// provider lists and stops only those. Constraints map to limits.cpu and
// limits.memory.
package lxd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	lxdclient "github.com/canonical/lxd/client"
	"github.com/canonical/lxd/shared/api"

	"github.com/troupe-dev/troupe/providers"
)

// Paths inside a container.
const (
	// AgentDir is the agent's data dir; InstanceConfig.Files land here.
	AgentDir = "/var/lib/troupe/agent"
	// BinDir holds the agent binary and its tools.
	BinDir = "/usr/local/bin"
	// UnitName is the systemd unit that runs the agent.
	UnitName = "troupe-machine.service"
	// TagKey is the instance config key naming the controller.
	TagKey = "user.troupe.controller"
)

// ContainerName is the LXD container of instance id: LXD (5.0) refuses
// names starting with a digit, as machine instance names may.
func ContainerName(id string) string { return "tr-" + id }

// instanceID inverts ContainerName; ok is false for other containers.
func instanceID(container string) (string, bool) { return strings.CutPrefix(container, "tr-") }

// DefaultImage is the image alias `make lxd-image` imports.
const DefaultImage = "troupe/debian-bookworm"

// Config configures a Provider.
type Config struct {
	// Socket is LXD's unix socket; empty means the client's own search
	// ($LXD_SOCKET, $LXD_DIR/unix.socket, the snap's, /var/lib/lxd/unix.socket).
	Socket string
	// Image is the alias of the image containers are created from; empty
	// means DefaultImage.
	Image string
	// Network is the bridge the default profile attaches eth0 to; empty
	// means lxdbr0.
	Network string
	// Agent is the host path of the agent binary (trouped, statically
	// linked so it runs whatever the image's libc).
	Agent string
	// Tools are host paths of files pushed into BinDir next to the agent
	// (e.g. hooktool).
	Tools []string
	// Tag marks this controller's instances (its UUID). Required.
	Tag string
	// Project is the LXD project instances are made in; empty means
	// LXD's default project. It must exist: a project with its own
	// limits (limits.containers, limits.cpu, …) is how an operator
	// gives Troupe a quota.
	Project string
	// AddressTimeout bounds the wait for a started container's IPv4
	// address; zero means 90s.
	AddressTimeout time.Duration
	// StopTimeout is the grace period of a clean stop before the
	// container is stopped by force; zero means 10s.
	StopTimeout time.Duration
}

// Provider starts machine agents in LXD containers.
type Provider struct {
	cfg Config

	connMu sync.Mutex
	conn   lxdclient.InstanceServer // guarded by connMu; nil until connected

	names providers.NameLocks // serialises Start and Stop per instance name
}

var _ providers.Provider = (*Provider)(nil)

// New returns a provider. It does not connect: each call connects when it
// needs to, so a provider made while LXD is down works once LXD is up.
func New(cfg Config) *Provider {
	if cfg.Image == "" {
		cfg.Image = DefaultImage
	}
	if cfg.Network == "" {
		cfg.Network = "lxdbr0"
	}
	if cfg.AddressTimeout == 0 {
		cfg.AddressTimeout = 90 * time.Second
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 10 * time.Second
	}
	return &Provider{cfg: cfg}
}

// SocketPath is the socket Config.Socket names or, when empty, the one
// the LXD client finds.
func SocketPath(socket string) string {
	if socket != "" {
		return socket
	}
	if s := os.Getenv("LXD_SOCKET"); s != "" {
		return s
	}
	if d := os.Getenv("LXD_DIR"); d != "" {
		return filepath.Join(d, "unix.socket")
	}
	if _, err := os.Stat("/var/snap/lxd/common/lxd/unix.socket"); err == nil {
		return "/var/snap/lxd/common/lxd/unix.socket"
	}
	return "/var/lib/lxd/unix.socket"
}

// SetupHint says how to make LXD usable here; every "unreachable" error
// ends with it.
const SetupHint = "install and start LXD with `sudo scripts/lxd/setup.sh`, then build the image with `sudo make lxd-image` (or set LXD_SOCKET to the socket of a running LXD)"

// connect returns the cached connection or makes one.
func (p *Provider) connect(ctx context.Context) (lxdclient.InstanceServer, error) {
	p.connMu.Lock()
	defer p.connMu.Unlock()
	if p.conn != nil {
		return p.conn, nil
	}
	sock := SocketPath(p.cfg.Socket)
	c, err := lxdclient.ConnectLXDUnixWithContext(ctx, sock, nil)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: cannot reach LXD at %s: %v; %s", providers.ErrUnavailable, sock, err, SetupHint)
	}
	if p.cfg.Project != "" {
		if _, _, err := c.GetProject(p.cfg.Project); err != nil {
			return nil, fmt.Errorf("%w: LXD project %q: %v; create it with `lxc project create %s -c features.images=false -c features.profiles=false`", providers.ErrUnavailable, p.cfg.Project, err, p.cfg.Project)
		}
		c = c.UseProject(p.cfg.Project)
	}
	p.conn = c
	return c, nil
}

// unavailable classifies an LXD call's failure: the daemon gone (the
// cached connection is dropped, so the next call reconnects) or a refusal
// (a quota, a missing image).
func (p *Provider) unavailable(what string, err error) error {
	var se api.StatusError
	if !errors.As(err, &se) {
		// Not an answer from LXD: the connection is broken.
		p.connMu.Lock()
		p.conn = nil
		p.connMu.Unlock()
		return fmt.Errorf("%w: %s: LXD at %s does not answer: %v; %s", providers.ErrUnavailable, what, SocketPath(p.cfg.Socket), err, SetupHint)
	}
	return fmt.Errorf("%w: %s: LXD refused: %v", providers.ErrUnavailable, what, err)
}

// Check verifies that LXD answers and has the image, returning an error
// that says how to fix it otherwise.
func (p *Provider) Check(ctx context.Context) error {
	c, err := p.connect(ctx)
	if err != nil {
		return err
	}
	return p.checkImage(c)
}

func (p *Provider) checkImage(c lxdclient.InstanceServer) error {
	if _, _, err := c.GetImageAlias(p.cfg.Image); err != nil {
		if api.StatusErrorCheck(err, http.StatusNotFound) {
			return fmt.Errorf("%w: LXD has no image %q: build it with `sudo make lxd-image`", providers.ErrUnavailable, p.cfg.Image)
		}
		return p.unavailable("cannot look up image "+p.cfg.Image, err)
	}
	return nil
}

// BridgeAddress is the host's IPv4 address on the bridge containers are
// attached to: where a controller must listen for their agents.
func (p *Provider) BridgeAddress(ctx context.Context) (string, error) {
	c, err := p.connect(ctx)
	if err != nil {
		return "", err
	}
	n, _, err := c.GetNetwork(p.cfg.Network)
	if err != nil {
		return "", p.unavailable("cannot read LXD network "+p.cfg.Network, err)
	}
	cidr := n.Config["ipv4.address"]
	ip, _, err := net.ParseCIDR(cidr)
	if err != nil || ip.To4() == nil {
		return "", fmt.Errorf("%w: LXD network %s has no IPv4 address (ipv4.address %q); set one, e.g. `lxc network set %s ipv4.address 10.123.45.1/24`",
			providers.ErrUnavailable, p.cfg.Network, cidr, p.cfg.Network)
	}
	return ip.String(), nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// validName: LXD instance names are host names; this provider takes the
// lowercase subset every provider accepts, at most MaxNameLength long, and
// not all digits.
func validName(name string) bool {
	if len(name) > providers.MaxNameLength || !nameRE.MatchString(name) {
		return false
	}
	_, err := strconv.ParseUint(name, 10, 64)
	return err != nil
}

func validFileName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// StartInstance implements providers.Provider.
func (p *Provider) StartInstance(ctx context.Context, cfg providers.InstanceConfig) (providers.Instance, error) {
	if !validName(cfg.Name) {
		return providers.Instance{}, fmt.Errorf("%w: instance name %q: use up to %d lowercase letters, digits and inner hyphens", providers.ErrInvalid, cfg.Name, providers.MaxNameLength)
	}
	for name := range cfg.Files {
		if !validFileName(name) {
			return providers.Instance{}, fmt.Errorf("%w: cannot start instance %q: file name %q is not a plain name", providers.ErrInvalid, cfg.Name, name)
		}
	}
	if c := cfg.Constraints; c.Cores < 0 || c.MemoryMiB < 0 {
		return providers.Instance{}, fmt.Errorf("%w: cannot start instance %q: negative constraint (cores %d, memory %d MiB)", providers.ErrInvalid, cfg.Name, c.Cores, c.MemoryMiB)
	}
	if p.cfg.Tag == "" || p.cfg.Agent == "" {
		return providers.Instance{}, errors.New("lxd provider misconfigured: Tag and Agent are required")
	}
	unlock, err := p.names.Lock(ctx, cfg.Name)
	if err != nil {
		return providers.Instance{}, fmt.Errorf("cannot start instance %q: %w", cfg.Name, err)
	}
	defer unlock()
	c, err := p.connect(ctx)
	if err != nil {
		return providers.Instance{}, fmt.Errorf("cannot start instance %q: %w", cfg.Name, err)
	}
	existing, _, err := c.GetInstance(ContainerName(cfg.Name))
	switch {
	case err == nil:
		if existing.Config[TagKey] != p.cfg.Tag {
			return providers.Instance{}, fmt.Errorf("%w: cannot start instance %q: an LXD instance of that name exists and is not this controller's; delete it with `lxc delete --force %s`",
				providers.ErrInvalid, cfg.Name, ContainerName(cfg.Name))
		}
		return p.ensureRunning(ctx, c, existing)
	case !api.StatusErrorCheck(err, http.StatusNotFound):
		return providers.Instance{}, p.unavailable("cannot start instance "+cfg.Name, err)
	}
	if err := p.checkImage(c); err != nil {
		return providers.Instance{}, fmt.Errorf("cannot start instance %q: %w", cfg.Name, err)
	}
	inst, err := p.create(ctx, c, cfg)
	if err != nil {
		// Nothing half-created: whatever got made goes.
		p.forceDelete(c, ContainerName(cfg.Name))
		return providers.Instance{}, fmt.Errorf("cannot start instance %q: %w", cfg.Name, err)
	}
	return inst, nil
}

func limits(c providers.Constraints) map[string]string {
	m := map[string]string{}
	if c.Cores > 0 {
		m["limits.cpu"] = strconv.Itoa(c.Cores)
	}
	if c.MemoryMiB > 0 {
		m["limits.memory"] = strconv.Itoa(c.MemoryMiB) + "MiB"
	}
	return m
}

// hardware reads the limits back from an instance's config.
func hardware(config map[string]string) providers.Constraints {
	var h providers.Constraints
	h.Cores, _ = strconv.Atoi(config["limits.cpu"])
	if mem, ok := strings.CutSuffix(config["limits.memory"], "MiB"); ok {
		h.MemoryMiB, _ = strconv.Atoi(mem)
	}
	return h
}

func (p *Provider) create(ctx context.Context, c lxdclient.InstanceServer, cfg providers.InstanceConfig) (providers.Instance, error) {
	config := limits(cfg.Constraints)
	config[TagKey] = p.cfg.Tag
	cn := ContainerName(cfg.Name)
	op, err := c.CreateInstance(api.InstancesPost{
		Name: cn, Type: api.InstanceTypeContainer,
		Source:      api.InstanceSource{Type: "image", Alias: p.cfg.Image},
		InstancePut: api.InstancePut{Config: config, Profiles: []string{"default"}},
	})
	if err == nil {
		err = op.WaitContext(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return providers.Instance{}, ctx.Err()
		}
		return providers.Instance{}, p.unavailable("cannot create container", err)
	}
	if err := p.push(ctx, c, cn, cfg); err != nil {
		return providers.Instance{}, err
	}
	if err := p.changeState(ctx, c, cn, "start", false); err != nil {
		return providers.Instance{}, err
	}
	addrs, err := p.waitAddress(ctx, c, cn)
	if err != nil {
		return providers.Instance{}, err
	}
	if err := p.startAgent(ctx, c, cn); err != nil {
		return providers.Instance{}, err
	}
	return providers.Instance{ID: cfg.Name, Hostname: cn, Addresses: addrs, Hardware: cfg.Constraints}, nil
}

// unit is the systemd unit running the agent; Restart=always brings back
// an agent that died.
func (p *Provider) unit() string {
	return fmt.Sprintf(`[Unit]
Description=Troupe machine agent
After=network.target

[Service]
Type=exec
ExecStart=%s machine --data-dir %s
Restart=always
RestartSec=1
KillMode=mixed
TimeoutStopSec=5

[Install]
WantedBy=multi-user.target
`, path.Join(BinDir, filepath.Base(p.cfg.Agent)), AgentDir)
}

// push writes the binaries, the unit and cfg.Files into the (stopped)
// container, so the agent finds everything at its first start.
func (p *Provider) push(ctx context.Context, c lxdclient.InstanceServer, cn string, cfg providers.InstanceConfig) error {
	put := func(dst string, data []byte, mode int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := c.CreateInstanceFile(cn, dst, lxdclient.InstanceFileArgs{
			Content: bytes.NewReader(data), Mode: mode, Type: "file", WriteMode: "overwrite"})
		if err != nil {
			return p.unavailable("cannot push "+dst, err)
		}
		return nil
	}
	for _, dir := range []string{path.Dir(AgentDir), AgentDir} {
		if err := c.CreateInstanceFile(cn, dir, lxdclient.InstanceFileArgs{Type: "directory", Mode: 0o700}); err != nil {
			return p.unavailable("cannot create "+dir, err)
		}
	}
	for _, bin := range append([]string{p.cfg.Agent}, p.cfg.Tools...) {
		data, err := os.ReadFile(bin)
		if err != nil {
			return fmt.Errorf("cannot read %s to push into the container: %w", bin, err)
		}
		if err := put(path.Join(BinDir, filepath.Base(bin)), data, 0o755); err != nil {
			return err
		}
	}
	for name, data := range cfg.Files {
		if err := put(path.Join(AgentDir, name), data, 0o600); err != nil {
			return err
		}
	}
	if err := put("/etc/systemd/system/"+UnitName, []byte(p.unit()), 0o644); err != nil {
		return err
	}
	link := "/etc/systemd/system/multi-user.target.wants/" + UnitName
	if err := c.CreateInstanceFile(cn, link, lxdclient.InstanceFileArgs{
		Type: "symlink", Content: strings.NewReader("/etc/systemd/system/" + UnitName)}); err != nil {
		return p.unavailable("cannot enable "+UnitName, err)
	}
	return nil
}

// ensureRunning starts a stopped container and makes sure its agent unit
// is active.
func (p *Provider) ensureRunning(ctx context.Context, c lxdclient.InstanceServer, in *api.Instance) (providers.Instance, error) {
	if in.StatusCode != api.Running {
		if err := p.changeState(ctx, c, in.Name, "start", false); err != nil {
			return providers.Instance{}, fmt.Errorf("cannot start instance %q: %w", in.Name, err)
		}
	}
	addrs, err := p.waitAddress(ctx, c, in.Name)
	if err != nil {
		return providers.Instance{}, fmt.Errorf("cannot start instance %q: %w", in.Name, err)
	}
	// systemd restarts a dead agent by itself; this covers one stopped
	// by hand. Starting an active unit does nothing.
	if err := p.startAgent(ctx, c, in.Name); err != nil {
		return providers.Instance{}, fmt.Errorf("cannot start the agent of instance %q: %w", in.Name, err)
	}
	id, _ := instanceID(in.Name)
	return providers.Instance{ID: id, Hostname: in.Name, Addresses: addrs, Hardware: hardware(in.Config)}, nil
}

// startAgent returns once systemd has exec'd the agent (Type=exec), so
// StartInstance returns with the agent running. Early in boot systemctl
// may not answer yet; it is retried until AddressTimeout.
func (p *Provider) startAgent(ctx context.Context, c lxdclient.InstanceServer, cn string) error {
	deadline := time.Now().Add(p.cfg.AddressTimeout)
	for {
		err := p.exec(ctx, c, cn, "systemctl", "start", UnitName)
		if err == nil || ctx.Err() != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: the agent of container %s did not start within %v: %v (see `lxc exec %s -- journalctl -u %s`)",
				providers.ErrUnavailable, cn, p.cfg.AddressTimeout, err, cn, UnitName)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// exec runs a command in the container and fails unless it exits 0.
//
// The command's output comes over websockets (WaitForWS), read to the
// end: without them the LXD client's exec leaves a goroutine waiting on
// no channel for ever, one per call, and the provisioner calls this on
// every pass for every running machine (the chaos suite's leak check
// found thousands).
func (p *Provider) exec(ctx context.Context, c lxdclient.InstanceServer, name string, argv ...string) error {
	var stderr bytes.Buffer
	done := make(chan bool)
	op, err := c.ExecInstance(name, api.InstanceExecPost{Command: argv, WaitForWS: true},
		&lxdclient.InstanceExecArgs{Stdout: io.Discard, Stderr: &stderr, DataDone: done})
	if err == nil {
		err = op.WaitContext(ctx)
		if err == nil {
			select {
			case <-done:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return p.unavailable("cannot run "+strings.Join(argv, " "), err)
	}
	if rc, ok := op.Get().Metadata["return"].(float64); ok && rc != 0 {
		return fmt.Errorf("%s exited %v in the container: %s", strings.Join(argv, " "), rc, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func (p *Provider) changeState(ctx context.Context, c lxdclient.InstanceServer, name, action string, force bool) error {
	timeout := -1
	if action == "stop" && !force {
		timeout = int(p.cfg.StopTimeout / time.Second)
	}
	op, err := c.UpdateInstanceState(name, api.InstanceStatePut{Action: action, Timeout: timeout, Force: force}, "")
	if err == nil {
		err = op.WaitContext(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return p.unavailable("cannot "+action+" container "+name, err)
	}
	return nil
}

// waitAddress polls until the container's eth0 has a global IPv4 address.
func (p *Provider) waitAddress(ctx context.Context, c lxdclient.InstanceServer, name string) ([]string, error) {
	deadline := time.Now().Add(p.cfg.AddressTimeout)
	for {
		st, _, err := c.GetInstanceState(name)
		if err != nil {
			return nil, p.unavailable("cannot read the state of container "+name, err)
		}
		if addrs := addresses(st); len(addrs) > 0 {
			return addrs, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: container %s got no IPv4 address within %v: check the %s bridge's DHCP (lxc network show %s) and the image's networking",
				providers.ErrUnavailable, name, p.cfg.AddressTimeout, p.cfg.Network, p.cfg.Network)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func addresses(st *api.InstanceState) []string {
	if st == nil {
		return nil
	}
	var out []string
	for nic, n := range st.Network {
		if nic == "lo" {
			continue
		}
		for _, a := range n.Addresses {
			if a.Family == "inet" && a.Scope == "global" {
				out = append(out, a.Address)
			}
		}
	}
	return out
}

// StopInstance implements providers.Provider.
func (p *Provider) StopInstance(ctx context.Context, id string) error {
	if !validName(id) {
		return providers.ErrNotFound
	}
	unlock, err := p.names.Lock(ctx, id)
	if err != nil {
		return fmt.Errorf("cannot stop instance %q: %w", id, err)
	}
	defer unlock()
	c, err := p.connect(ctx)
	if err != nil {
		return fmt.Errorf("cannot stop instance %q: %w", id, err)
	}
	cn := ContainerName(id)
	in, _, err := c.GetInstance(cn)
	if err != nil {
		if api.StatusErrorCheck(err, http.StatusNotFound) {
			return providers.ErrNotFound
		}
		return p.unavailable("cannot stop instance "+id, err)
	}
	if in.Config[TagKey] != p.cfg.Tag {
		return providers.ErrNotFound
	}
	if in.StatusCode == api.Running || in.StatusCode == api.Frozen {
		// A clean shutdown first (systemd stops the agent with SIGTERM);
		// by force when that takes too long or ctx ends.
		if err := p.changeState(ctx, c, cn, "stop", false); err != nil {
			if err := p.changeState(context.Background(), c, cn, "stop", true); err != nil {
				return fmt.Errorf("cannot stop instance %q: %w", id, err)
			}
		}
	}
	op, err := c.DeleteInstance(cn)
	if err == nil {
		err = op.Wait()
	}
	if err != nil {
		return p.unavailable("cannot delete container "+cn, err)
	}
	return nil
}

// forceDelete removes a container this provider created, whatever state
// it is in. Best effort: used only to undo a failed start.
func (p *Provider) forceDelete(c lxdclient.InstanceServer, name string) {
	if op, err := c.UpdateInstanceState(name, api.InstanceStatePut{Action: "stop", Force: true, Timeout: -1}, ""); err == nil {
		_ = op.Wait()
	}
	if op, err := c.DeleteInstance(name); err == nil {
		_ = op.Wait()
	}
}

// Instances implements providers.Provider.
func (p *Provider) Instances(ctx context.Context) ([]providers.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cannot list instances: %w", err)
	}
	c, err := p.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot list instances: %w", err)
	}
	full, err := c.GetInstancesFull(api.InstanceTypeContainer)
	if err != nil {
		return nil, p.unavailable("cannot list instances", err)
	}
	var out []providers.Instance
	for _, in := range full {
		id, ok := instanceID(in.Name)
		if !ok || in.Config[TagKey] != p.cfg.Tag {
			continue
		}
		out = append(out, providers.Instance{ID: id, Hostname: in.Name, Addresses: addresses(in.State), Hardware: hardware(in.Config)})
	}
	return out, nil
}
