// Package provisioner is the controller worker that gives machines their
// instances. It is level-triggered: on every change under the models'
// keys (and every Resync interval) it lists machines that have no
// instance, records a fresh agent credential and the instance name on the
// machine (persisted first, through the machine's actor), then asks the
// provider to start the instance. A provider error is recorded as the
// machine's instance status and retried on the next pass. Each model's
// cloud picks its provider (Config.ProviderFor).
package provisioner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/providers"
)

// Machines is how the provisioner changes machine documents (through the
// machine actors).
type Machines interface {
	SetProvisioned(ctx context.Context, model, id, instance, passwordHash string, inst providers.Instance) error
	SetInstanceError(ctx context.Context, model, id, message string) error
	// SetDead records that a dying machine's instance is gone.
	SetDead(ctx context.Context, model, id string) error
}

// Config configures the provisioner.
type Config struct {
	Store *store.Store
	// Provider and Addresses serve every model when ProviderFor is nil.
	Provider providers.Provider
	// ProviderFor returns the provider of a model's cloud and the
	// controller addresses its agents dial; its error (an unknown cloud,
	// an unreachable backend) is recorded on the model's machines.
	ProviderFor func(ctx context.Context, cloud string) (providers.Provider, []string, error)
	Machines    Machines
	Addresses   []string
	CACert      string
	Resync      time.Duration // zero means 10s
	Logger      *slog.Logger
}

// Run provisions until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Resync == 0 {
		cfg.Resync = 10 * time.Second
	}
	return cfg.Store.Reconcile(ctx, store.Prefix+"m/", cfg.Resync,
		func(ctx context.Context) error { return pass(ctx, cfg) },
		func(err error) { cfg.Logger.Warn("provisioning pass failed", "err", err) })
}

// target is one model's provider, controller addresses and constraints.
type target struct {
	prov        providers.Provider
	addrs       []string
	constraints map[string]any
	err         error
}

// targetFor reads the model's cloud and constraints and resolves its
// provider, once per pass.
func targetFor(ctx context.Context, cfg Config, cache map[string]target, model string) target {
	if t, ok := cache[model]; ok {
		return t
	}
	t := target{prov: cfg.Provider, addrs: cfg.Addresses}
	var doc entity.Model
	if _, err := cfg.Store.Get(ctx, entity.ModelKey(model), &doc); err != nil && !errors.Is(err, store.ErrNotFound) {
		// Without its cloud the model's provider is unknown: skip it.
		t.err = fmt.Errorf("cannot read model %s: %w", model, err)
		cache[model] = t
		return t
	}
	t.constraints = doc.Constraints
	if cfg.ProviderFor != nil {
		t.prov, t.addrs, t.err = cfg.ProviderFor(ctx, doc.Cloud)
	}
	cache[model] = t
	return t
}

// ModelConstraints maps the constraints a provider can enforce (cores,
// mem in MiB) from a model's typed constraints.
func ModelConstraints(c map[string]any) providers.Constraints {
	num := func(v any) int {
		switch n := v.(type) {
		case int:
			return n
		case float64:
			return int(n)
		}
		return 0
	}
	return providers.Constraints{Cores: num(c["cores"]), MemoryMiB: num(c["mem"])}
}

// Effective is what a provider is asked for: the model's constraints
// with the machine's own (its application's, or add-machine's) taking
// precedence key by key, as in Juju.
func Effective(model, machine map[string]any) providers.Constraints {
	merged := make(map[string]any, len(model)+len(machine))
	for k, v := range model {
		merged[k] = v
	}
	for k, v := range machine {
		merged[k] = v
	}
	return ModelConstraints(merged)
}

// Hardware describes an instance in constraint syntax, as status shows
// it: the host's architecture and the limits the provider applied.
func Hardware(h providers.Constraints) string {
	s := "arch=" + runtime.GOARCH
	if h.Cores > 0 {
		s += " cores=" + strconv.Itoa(h.Cores)
	}
	if h.MemoryMiB > 0 {
		s += " mem=" + strconv.Itoa(h.MemoryMiB) + "M"
	}
	return s
}

func pass(ctx context.Context, cfg Config) error {
	kvs, _, err := cfg.Store.List(ctx, store.Prefix+"m/")
	if err != nil {
		return err
	}
	targets := map[string]target{}
	for _, kv := range kvs {
		rest := strings.TrimPrefix(kv.Key, store.Prefix+"m/")
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) != 3 || parts[1] != "machine" {
			continue
		}
		var m entity.Machine
		if err := json.Unmarshal(kv.Value, &m); err != nil {
			// One bad document must not stop provisioning the others.
			cfg.Logger.Error("skipping undecodable machine document", "key", kv.Key, "err", err)
			continue
		}
		tg := targetFor(ctx, cfg, targets, parts[0])
		if tg.err != nil {
			if m.Life == entity.Alive && m.InstanceID == "" {
				if err := setError(ctx, cfg, parts[0], m, tg.err); err != nil {
					return err
				}
			} else {
				cfg.Logger.Warn("cannot reach the machine's provider", "model", parts[0], "machine", m.ID, "err", tg.err)
			}
			continue
		}
		if m.Life == entity.Dying {
			if err := release(ctx, cfg, tg.prov, parts[0], m); err != nil {
				cfg.Logger.Warn("cannot release machine", "model", parts[0], "machine", m.ID, "err", err)
			}
			continue
		}
		if m.Life != entity.Alive {
			continue
		}
		if m.InstanceID != "" && m.Instance.Current == "running" {
			// Idempotent: restarts the agent if it died, keeping its
			// files (and so its credential) as they are.
			if _, err := tg.prov.StartInstance(ctx, providers.InstanceConfig{Name: m.InstanceID}); err != nil {
				cfg.Logger.Warn("cannot ensure machine agent runs", "model", parts[0], "machine", m.ID, "err", err)
			}
			continue
		}
		if err := provision(ctx, cfg, tg, parts[0], m); err != nil {
			if err := setError(ctx, cfg, parts[0], m, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// setError records a provisioning error on the machine unless it is
// recorded already: rewriting it would wake this worker again at once.
func setError(ctx context.Context, cfg Config, model string, m entity.Machine, perr error) error {
	if m.Instance.Current == "provisioning error" && m.Instance.Message == perr.Error() {
		return nil
	}
	cfg.Logger.Warn("cannot provision machine", "model", model, "machine", m.ID, "err", perr)
	return cfg.Machines.SetInstanceError(ctx, model, m.ID, perr.Error())
}

// release stops a dying machine's instance, then records it dead.
func release(ctx context.Context, cfg Config, prov providers.Provider, model string, m entity.Machine) error {
	if m.InstanceID != "" {
		if err := prov.StopInstance(ctx, m.InstanceID); err != nil && !errors.Is(err, providers.ErrNotFound) {
			return err
		}
	}
	cfg.Logger.Info("machine released", "model", model, "machine", m.ID, "instance", m.InstanceID)
	return cfg.Machines.SetDead(ctx, model, m.ID)
}

// InstanceName is the stable instance name of a machine.
func InstanceName(model, id string) string {
	short := model
	if len(short) > 8 {
		short = short[:8]
	}
	return short + "-machine-" + id
}

func provision(ctx context.Context, cfg Config, tg target, model string, m entity.Machine) error {
	pw := entity.NewPassword()
	name := InstanceName(model, m.ID)
	conf := api.AgentConfig{
		Info: api.Info{Addresses: tg.addrs, CACert: cfg.CACert,
			Tag: entity.Tag{Kind: entity.KindMachine, Name: m.ID, Model: model}.String(), Password: pw},
		ModelUUID: model, Machine: m.ID,
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	// Persist the credential before the agent can present it.
	pending := providers.Instance{ID: name}
	if err := cfg.Machines.SetProvisioned(ctx, model, m.ID, name, entity.HashPassword(pw), pending); err != nil {
		return fmt.Errorf("cannot record credential: %w", err)
	}
	inst, err := tg.prov.StartInstance(ctx, providers.InstanceConfig{Name: name, Files: map[string][]byte{api.AgentConfigFile: data}, Constraints: Effective(tg.constraints, m.Constraints)})
	if err != nil {
		return err
	}
	cfg.Logger.Info("machine provisioned", "model", model, "machine", m.ID, "instance", inst.ID)
	return cfg.Machines.SetProvisioned(ctx, model, m.ID, name, entity.HashPassword(pw), inst)
}
