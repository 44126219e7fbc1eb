package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/pki"
)

// controllerDir is the controller's data dir inside $TROUPE_HOME.
func controllerDir(home string) string { return filepath.Join(home, "controller") }

// bootstrapConfig mirrors controller.Bootstrap (the CLI does not import
// controller code; the file is the contract).
type bootstrapConfig struct {
	UUID              string `json:"uuid"`
	Name              string `json:"name"`
	APIPort           int    `json:"api-port"`
	AdminPasswordHash string `json:"admin-password-hash"`
	CACert            string `json:"ca-cert"`
	ServerCert        string `json:"server-cert"`
	ServerKey         string `json:"server-key"`
	CAKey             string `json:"ca-key"` // for rotate-certs; bootstrap.json is 0600
	Agent             string `json:"agent"`
	// AgentCheckInterval is how often the controller checks that local
	// machine agents run (and restarts dead ones), as a Go duration.
	AgentCheckInterval string `json:"agent-check-interval,omitempty"`
	// MetricsAddress is where the controller's metrics endpoint listens.
	MetricsAddress string `json:"metrics-address,omitempty"`
	// LXDProject is the LXD project of the lxd cloud's containers;
	// LXDImage the image alias they are made from.
	LXDProject string `json:"lxd-project,omitempty"`
	LXDImage   string `json:"lxd-image,omitempty"`
}

// bootstrapLXDSettings reads lxd-project and lxd-image from bootstrap
// --config values (each "k=v", or several space-separated); the last one
// wins; other keys are left to Juju compatibility.
func bootstrapLXDSettings(values []string) (project, image string, err error) {
	for _, v := range values {
		for _, field := range strings.Fields(v) {
			k, val, ok := strings.Cut(field, "=")
			if !ok {
				return "", "", fmt.Errorf("--config %q: expected key=value", field)
			}
			switch k {
			case "lxd-project":
				if val == "" || strings.ContainsAny(val, "/ ") {
					return "", "", fmt.Errorf("--config lxd-project=%q: name an existing LXD project (see `lxc project list`)", val)
				}
				project = val
			case "lxd-image":
				if val == "" {
					return "", "", fmt.Errorf("--config lxd-image=: name an image alias (see `lxc image alias list`; `make lxd-image` makes %s)", "troupe/debian-bookworm")
				}
				image = val
			}
		}
	}
	return project, image, nil
}

func findTrouped() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "trouped")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("trouped")
	if err != nil {
		return "", fmt.Errorf("cannot find the trouped binary next to troupe or on PATH; run `make build`")
	}
	return filepath.Abs(p)
}

func runBootstrap(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("bootstrap")
	port := fs.Int("", "api-port", 17070, "controller API port")
	check := fs.Duration("", "agent-check-interval", 10*time.Second, "how often the controller checks that machine agents run and restarts dead ones (1s to 10m)")
	metricsAddr := fs.String("", "metrics-address", "", "where the controller serves Prometheus metrics (host:port; default a free loopback port, recorded in controller/metrics.addr)")
	fs.Bool("", "no-switch", false, "accepted for compatibility")
	// Juju's bootstrap flags jubilant may pass; the local controller has
	// no use for them, so they are accepted and ignored.
	for _, f := range []string{"bootstrap-base", "credential", "metadata-source", "to"} {
		fs.String("", f, "", "accepted for compatibility")
	}
	config := fs.Strings("", "config", "controller settings k=v (repeatable): lxd-project=NAME puts the lxd cloud's containers in that existing LXD project, lxd-image=ALIAS makes them from that image; other keys are accepted for compatibility")
	for _, f := range []string{"bootstrap-constraints", "constraints", "model-default", "storage-pool"} {
		fs.Strings("", f, "accepted for compatibility (repeatable)")
	}
	fs.Bool("", "force", false, "accepted for compatibility")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *port < 1 || *port > 65535 {
		return usage(fmt.Errorf("--api-port %d is out of range: use 1 to 65535", *port))
	}
	if *check < time.Second || *check > 10*time.Minute {
		return usage(fmt.Errorf("--agent-check-interval %s is out of range: use 1s to 10m", *check))
	}
	lxdProject, lxdImage, err := bootstrapLXDSettings(*config)
	if err != nil {
		return usage(err)
	}
	name := "local"
	if len(rest) >= 2 {
		name = rest[1]
	}
	if _, err := os.Stat(clientConfigPath(env.Home)); err == nil {
		return fmt.Errorf("a controller is already bootstrapped in %s; run `troupe destroy-controller --yes` first", env.Home)
	}
	// A controller an earlier bootstrap started and never recorded (it
	// failed half-way, or the client config was deleted) still owns the
	// data directory: a second one would fight it for the store.
	if pids := runningUnder(env.Home); len(pids) > 0 {
		return fmt.Errorf("processes of an earlier controller still run in %s (pid %v) though this client has no record of it; run `troupe destroy-controller --yes` to stop them and start over", env.Home, pids)
	}
	trouped, err := findTrouped()
	if err != nil {
		return err
	}
	if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))); err != nil {
		return fmt.Errorf("cannot use API port %d: %v; choose another with --api-port", *port, err)
	} else {
		l.Close()
	}
	maddr, err := chooseMetricsAddress(*metricsAddr)
	if err != nil {
		return err
	}
	dir := controllerDir(env.Home)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := pki.NewCA("troupe-ca")
	if err != nil {
		return err
	}
	srv, err := pki.IssueServer(ca, []string{"127.0.0.1", "localhost", pki.ServerName})
	if err != nil {
		return err
	}
	pw := entity.NewPassword()
	bc := bootstrapConfig{UUID: entity.NewUUID(), Name: name, APIPort: *port, AdminPasswordHash: entity.HashPassword(pw),
		CACert: string(ca.CertPEM), ServerCert: string(srv.CertPEM), ServerKey: string(srv.KeyPEM), CAKey: string(ca.KeyPEM), Agent: trouped,
		AgentCheckInterval: check.String(), MetricsAddress: maddr, LXDProject: lxdProject, LXDImage: lxdImage}
	data, _ := json.MarshalIndent(bc, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "bootstrap.json"), data, 0o600); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(dir, "trouped.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(trouped, "controller", "--data-dir", dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start controller: %w", err)
	}
	pid := cmd.Process.Pid
	cmd.Process.Release()
	if err := os.WriteFile(filepath.Join(dir, "trouped.pid"), []byte(strconv.Itoa(pid)), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "Starting controller %q (pid %d, logs in %s)\n", name, pid, filepath.Join(dir, "trouped.log"))
	cc := ClientConfig{Controller: name, ControllerUUID: bc.UUID, CurrentModel: "default",
		Info: api.Info{Addresses: []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))}, CACert: string(ca.CertPEM),
			Tag: "user-admin", Password: pw}}
	if err := awaitController(cc.Info, pid, dir); err != nil {
		// Nothing was recorded for the client: stop what was started and
		// clear the directory, keeping the log, so bootstrap can be
		// run again as it is.
		abandonController(env.Home, dir)
		return fmt.Errorf("%w; the controller was stopped, its log is %s", err, filepath.Join(dir, "trouped.log"))
	}
	if err := writeClientConfig(env.Home, cc); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "Bootstrap complete, controller %q is up; model \"default\" added.\n", name)
	if strings.HasSuffix(maddr, ":0") {
		fmt.Fprintf(env.Stderr, "Controller metrics: the address is recorded in %s\n", filepath.Join(dir, "metrics.addr"))
	} else {
		fmt.Fprintf(env.Stderr, "Controller metrics: http://%s/metrics\n", maddr)
	}
	return nil
}

// awaitController waits for the controller just started (pid) to answer,
// then adds the model "default".
func awaitController(info api.Info, pid int, dir string) error {
	conn, err := api.Dial(info)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(bootstrapWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = conn.ControllerInfo(ctx, &apipb.ControllerInfoRequest{})
		cancel()
		if err == nil {
			break
		}
		if !alive(pid) {
			return fmt.Errorf("controller exited before it answered: %v", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("controller did not come up within %s: %v", bootstrapWait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.AddModel(ctx, &apipb.AddModelRequest{Name: "default"}); err != nil {
		return fmt.Errorf("cannot create model \"default\": %w", err)
	}
	return nil
}

// bootstrapWait bounds how long bootstrap waits for the controller's
// first answer.
const bootstrapWait = 60 * time.Second

// abandonController stops every process of home and empties the
// controller directory but for its log.
func abandonController(home, dir string) {
	killUnder(home)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "trouped.log" {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}
