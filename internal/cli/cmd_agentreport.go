package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/sockpath"
)

// introspectionSocket must match machineagent.IntrospectionSocket (the CLI
// does not import agent code; the socket name is the contract).
const introspectionSocket = "introspection.socket"

// runShowAgentReport prints the dependency-engine report of a machine agent
// and its unit agents (Juju's juju_engine_report), and the machine lock's
// holder and waiters (Juju's juju_machine_lock). It reads the agent's
// introspection socket, so it works for machines of the local provider.
func runShowAgentReport(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("show-agent-report")
	fs.SetArgs("<machine-id>|<unit>")
	format := fs.String("", "format", "yaml", "output format: yaml|json")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("expected one machine id or unit name"))
	}
	conn, cc, err := connect(env)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := conn.Status(ctx, &apipb.StatusRequest{Model: cc.CurrentModel})
	if err != nil {
		return apiError(err)
	}
	target, unit := rest[0], ""
	machine := target
	for _, a := range st.Applications {
		for _, u := range a.Units {
			if u.Name == target {
				machine, unit = u.Machine, u.Name
			}
		}
	}
	instance := ""
	for _, m := range st.Machines {
		if m.Id == machine {
			instance = m.InstanceId
		}
	}
	if instance == "" {
		return fmt.Errorf("no provisioned machine or unit %q in model %q; see `troupe status`", target, cc.CurrentModel)
	}
	sock := sockpath.For(filepath.Join(env.Home, "machines", instance), introspectionSocket)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	resp, err := client.Get("http://agent/engine-report")
	if err != nil {
		return fmt.Errorf("cannot reach the agent of machine %s (%v); is it running? its log is %s", machine, err,
			filepath.Join(env.Home, "machines", instance, "agent.log"))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var report map[string]any
	if err := json.Unmarshal(data, &report); err != nil {
		return fmt.Errorf("agent answered an invalid report: %w", err)
	}
	if unit != "" {
		units, _ := report["units"].(map[string]any)
		report = map[string]any{unit: units[unit], "machine-lock": report["machine-lock"]}
	}
	if *format == "json" {
		return json.NewEncoder(env.Stdout).Encode(report)
	}
	return yaml.NewEncoder(env.Stdout).Encode(report)
}
