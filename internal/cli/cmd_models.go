package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

func runAddModel(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("add-model")
	noSwitch := fs.Bool("", "no-switch", false, "do not make the new model current")
	configs := fs.Strings("", "config", "model config k=v to set on the new model (repeatable)")
	controller := fs.String("c", "controller", "", "controller to add the model to (only the current one)")
	fs.String("", "credential", "", "accepted for compatibility (the local cloud needs none)")
	fs.String("", "owner", "", "accepted for compatibility (models are owned by admin)")
	cloudFlag := fs.String("", "cloud", "", "the model's cloud, as the optional positional argument: localhost (default) or lxd")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 1 {
		return usage(errors.New("no model name given"))
	}
	if len(rest) > 2 {
		return usage(errors.New("expected a model name and an optional cloud or cloud/region"))
	}
	if err := cmdline.ValidateModelName(rest[0]); err != nil {
		return usage(err)
	}
	values, err := cmdline.ParseKeyValues(*configs)
	if err != nil {
		return usage(err)
	}
	conn, cc, err := connect(env)
	if err != nil {
		return err
	}
	defer conn.Close()
	if *controller != "" && *controller != cc.Controller {
		return fmt.Errorf("controller %q not found: this client knows only %q", *controller, cc.Controller)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cloud := *cloudFlag
	if len(rest) > 1 {
		if cloud != "" && cloud != rest[1] {
			return usage(fmt.Errorf("cloud given twice: --cloud %s and %s", cloud, rest[1]))
		}
		cloud = rest[1]
	}
	cloud, _, _ = strings.Cut(cloud, "/") // cloud/region: regions are not modelled
	if _, err := conn.AddModel(ctx, &apipb.AddModelRequest{Name: rest[0], Cloud: cloud}); err != nil {
		return apiError(err)
	}
	if len(values) > 0 {
		if _, err := conn.SetModelConfig(ctx, &apipb.SetModelConfigRequest{Model: rest[0], Values: values}); err != nil {
			return fmt.Errorf("model %q was added but its --config was refused: %v; fix it with `troupe model-config -m %s`", rest[0], apiError(err), rest[0])
		}
	}
	fmt.Fprintf(env.Stderr, "Added '%s' model on %s\n", rest[0], cc.Controller)
	if !*noSwitch {
		cc.CurrentModel = rest[0]
		return writeClientConfig(env.Home, cc)
	}
	return nil
}

func runModels(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("models")
	format := fs.String("", "format", "tabular", "output format: tabular|json")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	conn, cc, err := connect(env)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.ListModels(ctx, &apipb.ListModelsRequest{})
	if err != nil {
		return apiError(err)
	}
	if *format == "json" {
		type model struct {
			ShowModelInfo
			Access         string `json:"access"`
			LastConnection string `json:"last-connection"`
		}
		out := struct {
			Models       []model `json:"models"`
			CurrentModel string  `json:"current-model,omitempty"`
		}{Models: []model{}, CurrentModel: cc.CurrentModel}
		for _, m := range res.Models {
			info := ShowModelInfo{Name: m.Owner + "/" + m.Name, ShortName: m.Name, ModelUUID: m.Uuid, ModelType: "iaas",
				ControllerUUID: cc.ControllerUUID, ControllerName: cc.Controller, Owner: m.Owner, Cloud: m.Cloud,
				Type: "local", Life: m.Life, AgentVersion: strings.Split(Version, "-")[0], SLA: "unsupported"}
			if st := m.Status; st != nil && st.Current != "" {
				info.Status = map[string]string{"current": st.Current}
			}
			out.Models = append(out.Models, model{ShowModelInfo: info, Access: "admin", LastConnection: "just now"})
		}
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	fmt.Fprintf(env.Stdout, "Controller: %s\n\n%-20s %-12s %s\n", cc.Controller, "Model", "Cloud", "Status")
	for _, m := range res.Models {
		name := m.Name
		if name == cc.CurrentModel {
			name += "*"
		}
		fmt.Fprintf(env.Stdout, "%-20s %-12s %s\n", name, m.Cloud, m.Status.GetCurrent())
	}
	return nil
}

func runDestroyController(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("destroy-controller")
	yes := fs.Bool("y", "yes", false, "do not ask for confirmation")
	fs.Bool("", "no-prompt", false, "same as --yes")
	fs.Bool("", "destroy-all-models", false, "accepted for compatibility")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if !*yes && !fs.IsSet("no-prompt") {
		return usage(errors.New("destroying the controller removes every model and agent; run again with --yes to confirm"))
	}
	dir := controllerDir(env.Home)
	pid := 0
	if data, err := os.ReadFile(filepath.Join(dir, "trouped.pid")); err == nil {
		pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
	}
	if conn, _, err := connect(env); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		_, err = conn.DestroyController(ctx, &apipb.DestroyControllerRequest{})
		cancel()
		conn.Close()
		if err != nil {
			fmt.Fprintf(env.Stderr, "WARNING controller did not answer (%v); stopping processes directly\n", apiError(err))
		}
	}
	if pid > 0 {
		waitExit(pid, 60*time.Second)
	}
	// Whatever is still running from this home (a controller that never
	// answered, or agents it could not stop) is stopped here.
	killUnder(env.Home)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	os.RemoveAll(filepath.Join(env.Home, "machines"))
	os.Remove(clientConfigPath(env.Home))
	fmt.Fprintln(env.Stderr, "Controller destroyed.")
	return nil
}

func waitExit(pid int, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && alive(pid) {
		time.Sleep(100 * time.Millisecond)
	}
}

// alive reports whether process pid exists and has not exited (a zombie
// waiting for its parent has).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(st)
	i := strings.LastIndex(s, ")")
	return !(i > 0 && i+2 < len(s) && s[i+2] == 'Z')
}

// killUnder terminates processes whose command line names a path inside
// home (the controller and agents started for it).
func killUnder(home string) {
	for _, pid := range runningUnder(home) {
		syscall.Kill(pid, syscall.SIGTERM)
		waitExit(pid, 5*time.Second)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// runningUnder lists the processes (other than this one) whose
// --data-dir is inside home.
func runningUnder(home string) []int {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "--data-dir\x00"+home+string(filepath.Separator)) {
			continue
		}
		if alive(pid) { // a zombie holds nothing
			pids = append(pids, pid)
		}
	}
	return pids
}
