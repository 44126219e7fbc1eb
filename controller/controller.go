// Package controller assembles the controller service: a juju/worker/v4
// dependency engine whose manifolds own the store (embedded etcd), the
// actor system, the API server and the provisioner. See manifolds.go.
//
// Who imports it: cmd/trouped only. Agents never import it.
package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// BootstrapFile is written by `troupe bootstrap` into the controller's data
// dir before the controller first starts.
const BootstrapFile = "bootstrap.json"

// Bootstrap is the controller's static configuration.
type Bootstrap struct {
	UUID              string `json:"uuid"`
	Name              string `json:"name"`
	APIPort           int    `json:"api-port"`
	AdminPasswordHash string `json:"admin-password-hash"`
	CACert            string `json:"ca-cert"`
	ServerCert        string `json:"server-cert"`
	ServerKey         string `json:"server-key"`
	// CAKey is the CA's key, with which `troupe rotate-certs` issues a
	// new server certificate; empty (a controller bootstrapped before
	// rotation existed) means the certificate cannot be rotated.
	CAKey string `json:"ca-key,omitempty"`
	// Agent is the trouped binary used to start machine agents.
	Agent string `json:"agent"`
	// AgentCheckInterval is how often the provisioner checks that machine
	// agents run and restarts dead ones (Go duration); empty means 10s.
	AgentCheckInterval string `json:"agent-check-interval,omitempty"`
	// MetricsAddress is where the metrics endpoint listens (host:port);
	// empty means a free loopback port. The bound address is written to
	// metrics.addr in the data dir.
	MetricsAddress string `json:"metrics-address,omitempty"`
	// LoginRate and LoginBurst size the agents' login token bucket
	// (logins per second, bucket depth); 0 means the API server's
	// defaults, a negative rate no limit.
	LoginRate  float64 `json:"login-rate,omitempty"`
	LoginBurst int     `json:"login-burst,omitempty"`
	// AgentRestartGrace is how long after this controller starts no agent
	// is shown lost, whatever its model's lost-after (Go duration); empty
	// means 1m.
	AgentRestartGrace string `json:"agent-restart-grace,omitempty"`
	// LXDProject is the LXD project the lxd cloud's containers are made
	// in (`bootstrap --config lxd-project=NAME`); empty means LXD's
	// default project. The project must exist.
	LXDProject string `json:"lxd-project,omitempty"`
	// LXDImage is the image alias the lxd cloud's containers are made
	// from (`bootstrap --config lxd-image=ALIAS`); empty means
	// troupe/debian-bookworm, which `make lxd-image` builds.
	LXDImage string `json:"lxd-image,omitempty"`
}

// restartGrace is AgentRestartGrace parsed, with its default.
func (b Bootstrap) restartGrace() (time.Duration, error) {
	if b.AgentRestartGrace == "" {
		return time.Minute, nil
	}
	d, err := time.ParseDuration(b.AgentRestartGrace)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("agent-restart-grace %q in %s: expected a duration such as 1m", b.AgentRestartGrace, BootstrapFile)
	}
	return d, nil
}

// ReadBootstrap reads dataDir/bootstrap.json.
func ReadBootstrap(dataDir string) (Bootstrap, error) {
	var b Bootstrap
	data, err := os.ReadFile(filepath.Join(dataDir, BootstrapFile))
	if err != nil {
		return b, fmt.Errorf("cannot read controller configuration: %w (was this directory created by `troupe bootstrap`?)", err)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("controller configuration is corrupt: %w", err)
	}
	if _, err := b.agentCheckInterval(); err != nil {
		return b, err
	}
	if _, err := b.restartGrace(); err != nil {
		return b, err
	}
	return b, nil
}

// GCPercent is the controller's garbage collection target (GOGC) unless
// the environment sets one. The controller is a long-running service
// whose live heap is mostly per-unit state and requests in flight: Go's
// default of 100 lets the heap grow to twice the live data before a
// collection, which made RSS about twice the live heap; 50 keeps it at
// 1.5× for a few per cent more CPU in the collector.
const GCPercent = 50

// Run runs the controller in dataDir until ctx is cancelled or the
// controller is destroyed.
func Run(ctx context.Context, dataDir string, log *slog.Logger) error {
	b, err := ReadBootstrap(dataDir)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	eng, err := engine.New(log)
	if err != nil {
		return err
	}
	if err := engine.Install(eng, Manifolds(ManifoldsConfig{DataDir: dataDir, Bootstrap: b, Logger: log, Destroyed: cancel})); err != nil {
		eng.Kill()
		eng.Wait()
		return err
	}
	// Cancelling ctx (a signal, or DestroyController) kills the engine;
	// an engine that dies on its own returns its error here.
	stop := context.AfterFunc(ctx, eng.Kill)
	defer stop()
	if err := eng.Wait(); err != nil {
		return err
	}
	if ctx.Err() == nil {
		return errors.New("controller engine stopped")
	}
	return nil
}

// seed writes the controller document and the admin user once.
func seed(ctx context.Context, s *store.Store, b Bootstrap) error {
	var c entity.Controller
	_, err := s.Get(ctx, entity.ControllerKey, &c)
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	cop, err := store.Put(entity.ControllerKey, entity.Controller{UUID: b.UUID, Name: b.Name})
	if err != nil {
		return err
	}
	uop, err := store.Put(entity.UserKey("admin"), entity.User{Name: "admin", PasswordHash: b.AdminPasswordHash, Superuser: true})
	if err != nil {
		return err
	}
	_, err = s.CommitIf(ctx, []store.Cond{store.Absent(entity.ControllerKey)}, cop, uop)
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}

func (b Bootstrap) agentCheckInterval() (time.Duration, error) {
	if b.AgentCheckInterval == "" {
		return 10 * time.Second, nil
	}
	d, err := time.ParseDuration(b.AgentCheckInterval)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("controller configuration: invalid agent-check-interval %q", b.AgentCheckInterval)
	}
	return d, nil
}
