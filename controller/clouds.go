package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/troupe-dev/troupe/controller/apiserver"
	"github.com/troupe-dev/troupe/providers"
	"github.com/troupe-dev/troupe/providers/local"
	lxdprov "github.com/troupe-dev/troupe/providers/lxd"
)

// Cloud names a model may choose (`troupe add-model m [cloud]`).
const (
	// LocalCloud is the built-in local provider (processes on this host).
	LocalCloud = "localhost"
	// LXDCloud is LXD containers on this host (providers/lxd).
	LXDCloud = "lxd"
)

// clouds maps a model's cloud to its provider and to the controller
// addresses that provider's agents dial. The LXD cloud needs the API on
// the bridge's address too: the first LXD model's provisioning opens that
// listener on the running API server (and every later API server start
// reopens it).
type clouds struct {
	local   *local.Provider
	lxd     *lxdprov.Provider
	port    int
	logger  *slog.Logger
	mu      sync.Mutex
	srv     *apiserver.Server       // guarded by mu; nil while no API server runs
	wanted  map[string]bool         // guarded by mu; extra listen addresses
	serving map[string]net.Listener // guarded by mu; open extra listeners
	wg      sync.WaitGroup          // the extra listeners' Serve goroutines
}

func newClouds(cfg ManifoldsConfig) *clouds {
	agent := cfg.Bootstrap.Agent
	return &clouds{
		local: &local.Provider{Root: filepath.Join(filepath.Dir(cfg.DataDir), "machines"), Agent: agent},
		lxd: lxdprov.New(lxdprov.Config{Agent: agent, Tools: agentTools(agent),
			Tag: cfg.Bootstrap.UUID, Project: cfg.Bootstrap.LXDProject, Image: cfg.Bootstrap.LXDImage}),
		port: cfg.Bootstrap.APIPort, logger: cfg.Logger,
		wanted: map[string]bool{}, serving: map[string]net.Listener{},
	}
}

// agentTools lists what an LXD container needs next to trouped: hooktool
// always, and pebble and troupe-mountns (for charms with containers)
// when they were built beside it.
func agentTools(agent string) []string {
	dir := filepath.Dir(agent)
	tools := []string{filepath.Join(dir, "hooktool")}
	for _, name := range []string{"pebble", "troupe-mountns"} {
		if p := filepath.Join(dir, name); fileExists(p) {
			tools = append(tools, p)
		}
	}
	return tools
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func (c *clouds) loopback() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)) }

// check refuses a cloud a model cannot use now.
func (c *clouds) check(ctx context.Context, cloud string) error {
	switch cloud {
	case "", LocalCloud:
		return nil
	case LXDCloud:
		if err := c.lxd.Check(ctx); err != nil {
			return fmt.Errorf("cloud %q is not usable: %w", cloud, err)
		}
		return nil
	}
	return fmt.Errorf("unknown cloud %q: this controller offers %q (local processes, the default) and %q (LXD containers)", cloud, LocalCloud, LXDCloud)
}

// providerFor implements provisioner.Config.ProviderFor.
func (c *clouds) providerFor(ctx context.Context, cloud string) (providers.Provider, []string, error) {
	switch cloud {
	case "", LocalCloud:
		return c.local, []string{c.loopback()}, nil
	case LXDCloud:
		ip, err := c.lxd.BridgeAddress(ctx)
		if err != nil {
			return nil, nil, err
		}
		addr := net.JoinHostPort(ip, strconv.Itoa(c.port))
		if err := c.listen(addr); err != nil {
			return nil, nil, err
		}
		return c.lxd, []string{addr}, nil
	}
	return nil, nil, fmt.Errorf("unknown cloud %q: this controller offers %q and %q", cloud, LocalCloud, LXDCloud)
}

// listen makes the API server serve on addr as well, now if it runs and
// on every later start.
func (c *clouds) listen(addr string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wanted[addr] = true
	if c.srv == nil {
		return errors.New("the API server is not running yet")
	}
	return c.openLocked(addr)
}

func (c *clouds) openLocked(addr string) error {
	if _, ok := c.serving[addr]; ok {
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s for agents in containers: %w", addr, err)
	}
	c.serving[addr] = l
	srv := c.srv
	c.wg.Go(func() {
		if err := srv.ServeOn(l); err != nil {
			c.logger.Warn("extra api listener stopped", "addr", addr, "err", err)
		}
	})
	c.logger.Info("api server listening", "addr", addr)
	return nil
}

// attach records the running API server and reopens the wanted extra
// listeners on it.
func (c *clouds) attach(srv *apiserver.Server) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.srv = srv
	for addr := range c.wanted {
		if err := c.openLocked(addr); err != nil {
			c.logger.Warn("cannot reopen api listener", "addr", addr, "err", err)
		}
	}
}

// detach is called when the API server stops: it closes the extra
// listeners (Serve then returns) and waits for their goroutines.
func (c *clouds) detach() {
	c.mu.Lock()
	c.srv = nil
	for _, l := range c.serving {
		l.Close()
	}
	c.serving = map[string]net.Listener{}
	c.mu.Unlock()
	c.wg.Wait()
}

// all is every provider, for destroying the controller.
func (c *clouds) all() []providers.Provider { return []providers.Provider{c.local, c.lxd} }
