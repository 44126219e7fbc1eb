package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// resolveModelRef turns a model reference in any of Juju's four forms
// into the bare model name on this client's controller. A controller or
// user part that does not name this controller or its one user (admin)
// is an error, not silently ignored.
func resolveModelRef(cc ClientConfig, s string) (string, error) {
	ref, err := cmdline.ParseModelRef(s)
	if err != nil {
		return "", usage(err)
	}
	if ref.Controller != "" && ref.Controller != cc.Controller {
		return "", fmt.Errorf("controller %q not found: this client knows only %q; see `troupe models`", ref.Controller, cc.Controller)
	}
	if ref.User != "" && ref.User != "admin" {
		return "", fmt.Errorf("model %q not found: models on this controller are owned by admin", s)
	}
	return ref.Model, nil
}

// ShowModelInfo is one model as `show-model --format json` prints it (the
// value under the model's short name).
type ShowModelInfo struct {
	Name           string                        `json:"name"`
	ShortName      string                        `json:"short-name"`
	ModelUUID      string                        `json:"model-uuid"`
	ModelType      string                        `json:"model-type"`
	ControllerUUID string                        `json:"controller-uuid"`
	ControllerName string                        `json:"controller-name"`
	IsController   bool                          `json:"is-controller"`
	Owner          string                        `json:"owner"`
	Cloud          string                        `json:"cloud"`
	Type           string                        `json:"type"`
	Life           string                        `json:"life"`
	Status         map[string]string             `json:"status,omitempty"`
	Users          map[string]ShowModelUser      `json:"users,omitempty"`
	Machines       map[string]ShowModelMachine   `json:"machines,omitempty"`
	SecretBackends map[string]ShowModelSecretsBE `json:"secret-backends,omitempty"`
	AgentVersion   string                        `json:"agent-version"`
	SLA            string                        `json:"sla"`
}

// ShowModelUser is one user's access to a model.
type ShowModelUser struct {
	Access         string `json:"access"`
	LastConnection string `json:"last-connection"`
	DisplayName    string `json:"display-name,omitempty"`
}

// ShowModelMachine is one machine in show-model.
type ShowModelMachine struct {
	Cores int `json:"cores"`
}

// ShowModelSecretsBE is one secret backend in show-model.
type ShowModelSecretsBE struct {
	NumSecrets int    `json:"num-secrets"`
	Status     string `json:"status"`
}

func runShowModel(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("show-model")
	fs.SetArgs("[<model>]")
	format := fs.String("", "format", "yaml", "output format: json|yaml")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usage(errors.New("expected at most one model reference"))
	}
	if *format != "json" && *format != "yaml" {
		return usage(fmt.Errorf("invalid --format %q: use json or yaml", *format))
	}
	conn, cc, err := connect(env)
	if err != nil {
		return err
	}
	defer conn.Close()
	name := cc.CurrentModel
	if len(rest) == 1 {
		if name, err = resolveModelRef(cc, rest[0]); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	models, err := conn.ListModels(ctx, &apipb.ListModelsRequest{})
	if err != nil {
		return apiError(err)
	}
	var m *apipb.ModelInfo
	for _, x := range models.Models {
		if x.Name == name {
			m = x
		}
	}
	if m == nil {
		return fmt.Errorf("model %q not found; see `troupe models`", name)
	}
	st, err := conn.Status(ctx, &apipb.StatusRequest{Model: name})
	if err != nil {
		return apiError(err)
	}
	out := ShowModelInfo{Name: m.Owner + "/" + m.Name, ShortName: m.Name, ModelUUID: m.Uuid, ModelType: "iaas",
		ControllerUUID: cc.ControllerUUID, ControllerName: cc.Controller, Owner: m.Owner, Cloud: m.Cloud,
		Type: "local", Life: m.Life, AgentVersion: st.Version, SLA: "unsupported",
		Users:          map[string]ShowModelUser{"admin": {Access: "admin", LastConnection: "just now"}},
		Machines:       map[string]ShowModelMachine{},
		SecretBackends: map[string]ShowModelSecretsBE{}}
	if s := m.Status; s != nil && s.Current != "" {
		out.Status = map[string]string{"current": s.Current}
		if s.Message != "" {
			out.Status["message"] = s.Message
		}
		if s.SinceUnixNano != 0 {
			out.Status["since"] = time.Unix(0, s.SinceUnixNano).UTC().Format(time.RFC3339)
		}
	}
	for _, mc := range st.Machines {
		if mc.Life != "dead" {
			out.Machines[mc.Id] = ShowModelMachine{Cores: 0}
		}
	}
	doc := map[string]ShowModelInfo{m.Name: out}
	if *format == "json" {
		return json.NewEncoder(env.Stdout).Encode(doc)
	}
	return writeYAML(env.Stdout, doc)
}

func runSwitch(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("switch")
	fs.SetArgs("<model>")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	cc, err := readClientConfig(env.Home)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		fmt.Fprintf(env.Stdout, "%s:admin/%s\n", cc.Controller, cc.CurrentModel)
		return nil
	}
	if len(rest) > 1 {
		return usage(errors.New("expected one model reference"))
	}
	target := rest[0]
	if target == cc.Controller {
		fmt.Fprintf(env.Stderr, "%s:admin/%s (no change)\n", cc.Controller, cc.CurrentModel)
		return nil
	}
	name, err := resolveModelRef(cc, target)
	if err != nil {
		return err
	}
	conn, err := dialClient(cc)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	models, err := conn.ListModels(ctx, &apipb.ListModelsRequest{})
	if err != nil {
		return apiError(err)
	}
	found := false
	for _, m := range models.Models {
		found = found || m.Name == name
	}
	if !found {
		return fmt.Errorf("model %q not found; see `troupe models`", name)
	}
	old := cc.CurrentModel
	cc.CurrentModel = name
	if err := writeClientConfig(env.Home, cc); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "%s:admin/%s -> %s:admin/%s\n", cc.Controller, old, cc.Controller, name)
	return nil
}
