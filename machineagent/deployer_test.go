package machineagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/juju/worker/v4"
	"github.com/juju/worker/v4/dependency"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/pki"
	"github.com/troupe-dev/troupe/unitagent"
	"github.com/troupe-dev/troupe/workers/logsender"
)

// TestWatchAgain: the deployer waits out an unreachable or throttling
// controller (so its unit agents keep running) and stops on anything
// else, wrapped or not.
func TestWatchAgain(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{status.Error(codes.Unavailable, "connection refused"), true},
		{fmt.Errorf("machine watch stopped: %w", status.Error(codes.Unavailable, "transport closing")), true},
		{status.Error(codes.DeadlineExceeded, "deadline"), true},
		{fmt.Errorf("machine watch stopped: %w", status.Error(codes.ResourceExhausted,
			"login throttled: the controller is limiting agent logins; retry after 120ms")), true},
		{status.Error(codes.ResourceExhausted, "message larger than max"), false},
		{status.Error(codes.Unauthenticated, "invalid credentials"), false},
		{status.Error(codes.PermissionDenied, "permission denied"), false},
		{errors.New("cannot write agent config"), false},
	}
	for _, c := range cases {
		if got := watchAgain(c.err); got != c.want {
			t.Errorf("watchAgain(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// getter serves an agent config as the agent manifold's output.
type getter struct{ c api.AgentConfig }

func (g getter) Get(name string, out any) error {
	p, ok := out.(*api.AgentConfig)
	if !ok {
		return fmt.Errorf("unexpected %s output %T", name, out)
	}
	*p = g.c
	return nil
}

// TestUnitAgentsShareTheMachinesTransport: the api-caller of the machine
// agent and those of the unit agents its deployer starts dial through
// one pool, so the process holds one transport to the controller; it is
// closed with the last of them.
func TestUnitAgentsShareTheMachinesTransport(t *testing.T) {
	ca, err := pki.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	info := api.Info{Addresses: []string{"127.0.0.1:1"}, CACert: string(ca.CertPEM), Tag: "machine-m-0", Password: "pw"}
	pool := api.NewPool()
	cfg := Config{DataDir: t.TempDir(), Pool: pool, Logger: slog.New(slog.DiscardHandler)}
	d := &deployer{cfg: cfg, agent: api.AgentConfig{Info: info, Machine: "0"}, logs: map[string]*logsender.Buffer{}}
	start := func(m dependency.Manifold, c api.AgentConfig) worker.Worker {
		w, err := m.Start(context.Background(), getter{c})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	workers := []worker.Worker{start(Manifolds(cfg)[APICallerName], api.AgentConfig{Info: info, Machine: "0"})}
	for _, unit := range []string{"app/0", "app/1"} {
		ui := info
		ui.Tag, ui.Password = "unit-m-"+strings.ReplaceAll(unit, "/", "-"), "pw-"+unit
		ucfg := d.unitConfig(unit, t.TempDir())
		workers = append(workers, start(unitagent.Manifolds(ucfg)[unitagent.APICallerName], api.AgentConfig{Info: ui, Unit: unit}))
	}
	if n := pool.Transports(); n != 1 {
		t.Fatalf("the machine agent and two unit agents hold %d transports; want 1", n)
	}
	for i, w := range workers {
		w.Kill()
		if err := w.Wait(); err != nil {
			t.Fatal(err)
		}
		if want := min(1, len(workers)-1-i); pool.Transports() != want {
			t.Fatalf("after %d api-callers stopped the pool holds %d transports; want %d", i+1, pool.Transports(), want)
		}
	}
}
