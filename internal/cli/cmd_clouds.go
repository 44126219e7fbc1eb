package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/troupe-dev/troupe/internal/atomicfile"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// Clouds and credentials, as `juju add-cloud`, `update-cloud`,
// `show-cloud`, `remove-cloud`, `add-credential` and `credentials`.
//
// Troupe's providers need no cloud definition (the local cloud is
// built in, "localhost"), so these commands only keep definitions: the
// client's in $TROUPE_HOME/clouds.yaml and credentials.yaml (0600), the
// controller's (`--controller C`, C being this client's controller) in
// $TROUPE_HOME/controller-clouds.yaml. Both use Juju's file shapes, so
// files written for `juju add-cloud --file` are read unchanged.

// builtinCloud is the cloud every controller has.
const builtinCloud = "localhost"

type cloudsFile struct {
	Clouds map[string]map[string]any `yaml:"clouds"`
}

type credentialsFile struct {
	Credentials map[string]map[string]map[string]any `yaml:"credentials"`
}

// cloudTarget is where a cloud command reads or writes: the client's
// file, the controller's, or both.
type cloudTarget struct{ client, controller bool }

func cloudTargetFlags(fs *cmdline.FlagSet) (client *bool, controller *string) {
	client = fs.Bool("", "client", false, "the client's cloud definitions")
	controller = fs.String("c", "controller", "", "this controller's cloud definitions (the controller's name)")
	return client, controller
}

func resolveCloudTarget(env *Env, client bool, controller string) (cloudTarget, error) {
	t := cloudTarget{client: client}
	if controller != "" {
		cc, err := readClientConfig(env.Home)
		if err != nil {
			return t, err
		}
		if controller != cc.Controller {
			return t, fmt.Errorf("controller %q not found: this client knows only %q", controller, cc.Controller)
		}
		t.controller = true
	}
	if !t.client && !t.controller {
		return t, usage(errors.New("give --client, --controller <name> or both"))
	}
	return t, nil
}

func (t cloudTarget) files(home string) []string {
	var out []string
	if t.client {
		out = append(out, filepath.Join(home, "clouds.yaml"))
	}
	if t.controller {
		out = append(out, filepath.Join(home, "controller-clouds.yaml"))
	}
	return out
}

func readYAMLFile[T any](path string, into *T) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s is corrupt: %v", path, err)
	}
	return nil
}

func writeYAMLFile(path string, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o600)
}

// cloudFromFile reads the definition of name from a Juju clouds file.
func cloudFromFile(path, name string) (map[string]any, error) {
	var f cloudsFile
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read cloud file: %w", err)
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("cloud file %s is not YAML: %v", path, err)
	}
	def, ok := f.Clouds[name]
	if !ok {
		return nil, fmt.Errorf("cloud %q not found in %s; it must be under clouds: {%s: {type: ...}}", name, path, name)
	}
	if t, _ := def["type"].(string); t == "" {
		return nil, fmt.Errorf("cloud %q in %s has no type", name, path)
	}
	return def, nil
}

func runAddCloud(env *Env, args []string) error    { return putCloud(env, args, "add-cloud", false) }
func runUpdateCloud(env *Env, args []string) error { return putCloud(env, args, "update-cloud", true) }

func putCloud(env *Env, args []string, verb string, update bool) error {
	fs := cmdline.NewFlagSet(verb)
	fs.SetArgs("<cloud> --file <clouds.yaml>")
	client, controller := cloudTargetFlags(fs)
	file := new(string)
	if update {
		fs.StringVar(file, "f", "", "", "a YAML file: {clouds: {<cloud>: {type, auth-types, regions}}}")
	} else {
		fs.StringVar(file, "f", "file", "", "a YAML file: {clouds: {<cloud>: {type, auth-types, regions}}}")
		fs.String("", "credential", "", "accepted for compatibility")
		fs.Bool("", "force", false, "accepted for compatibility")
		fs.String("", "target-controller", "", "accepted for compatibility")
	}
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || *file == "" {
		return usage(fmt.Errorf("usage: troupe %s <cloud> --client|--controller <name> -f <clouds.yaml>", verb))
	}
	name := rest[0]
	if name == builtinCloud {
		return fmt.Errorf("cloud %q is built in and cannot be changed", name)
	}
	t, err := resolveCloudTarget(env, *client, *controller)
	if err != nil {
		return err
	}
	def, err := cloudFromFile(*file, name)
	if err != nil {
		return err
	}
	for _, path := range t.files(env.Home) {
		var f cloudsFile
		if err := readYAMLFile(path, &f); err != nil {
			return err
		}
		_, exists := f.Clouds[name]
		switch {
		case update && !exists:
			return fmt.Errorf("cloud %q not found; add it with `troupe add-cloud`", name)
		case !update && exists:
			return fmt.Errorf("cloud %q already exists; change it with `troupe update-cloud`", name)
		}
		if f.Clouds == nil {
			f.Clouds = map[string]map[string]any{}
		}
		f.Clouds[name] = def
		if err := writeYAMLFile(path, f); err != nil {
			return err
		}
	}
	return nil
}

func runShowCloud(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("show-cloud")
	fs.SetArgs("<cloud>")
	client, controller := cloudTargetFlags(fs)
	fs.String("", "format", "yaml", "output format: yaml")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("usage: troupe show-cloud [--client] [--controller <name>] <cloud>"))
	}
	name := rest[0]
	if name == builtinCloud {
		return writeYAML(env.Stdout, map[string]any{"defined": "built-in", "type": "manual", "description": "this host (Troupe's local provider)"})
	}
	if !*client && *controller == "" {
		*client = true
	}
	t, err := resolveCloudTarget(env, *client, *controller)
	if err != nil {
		return err
	}
	for _, path := range t.files(env.Home) {
		var f cloudsFile
		if err := readYAMLFile(path, &f); err != nil {
			return err
		}
		if def, ok := f.Clouds[name]; ok {
			return writeYAML(env.Stdout, def)
		}
	}
	return fmt.Errorf("cloud %q not found; see `troupe add-cloud`", name)
}

func runRemoveCloud(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("remove-cloud")
	fs.SetArgs("<cloud>")
	client, controller := cloudTargetFlags(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("usage: troupe remove-cloud --client|--controller <name> <cloud>"))
	}
	t, err := resolveCloudTarget(env, *client, *controller)
	if err != nil {
		return err
	}
	found := false
	for _, path := range t.files(env.Home) {
		var f cloudsFile
		if err := readYAMLFile(path, &f); err != nil {
			return err
		}
		if _, ok := f.Clouds[rest[0]]; !ok {
			continue
		}
		found = true
		delete(f.Clouds, rest[0])
		if err := writeYAMLFile(path, f); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("cloud %q not found", rest[0])
	}
	fmt.Fprintf(env.Stderr, "Removed details of cloud %q\n", rest[0])
	return nil
}

func runAddCredential(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("add-credential")
	fs.SetArgs("<cloud> --file <credentials.yaml>")
	client, controller := cloudTargetFlags(fs)
	file := fs.String("f", "file", "", "a YAML file: {credentials: {<cloud>: {<name>: {auth-type, ...}}}}")
	fs.String("", "region", "", "accepted for compatibility")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || *file == "" {
		return usage(errors.New("usage: troupe add-credential <cloud> --client|--controller <name> --file <credentials.yaml>"))
	}
	if _, err := resolveCloudTarget(env, *client, *controller); err != nil {
		return err
	}
	cloud := rest[0]
	var in credentialsFile
	data, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("cannot read credential file: %w", err)
	}
	if err := yaml.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("credential file %s is not YAML: %v", *file, err)
	}
	creds := in.Credentials[cloud]
	if len(creds) == 0 {
		return fmt.Errorf("no credentials for cloud %q in %s; they go under credentials: {%s: {<name>: {auth-type: ...}}}", cloud, *file, cloud)
	}
	for name, c := range creds {
		if t, _ := c["auth-type"].(string); t == "" {
			return fmt.Errorf("credential %q for cloud %q has no auth-type", name, cloud)
		}
	}
	path := filepath.Join(env.Home, "credentials.yaml")
	var f credentialsFile
	if err := readYAMLFile(path, &f); err != nil {
		return err
	}
	if f.Credentials == nil {
		f.Credentials = map[string]map[string]map[string]any{}
	}
	if f.Credentials[cloud] == nil {
		f.Credentials[cloud] = map[string]map[string]any{}
	}
	for name, c := range creds {
		f.Credentials[cloud][name] = c
	}
	return writeYAMLFile(path, f)
}

// secretAttribute reports whether a credential attribute is shown only
// with --show-secrets, as in Juju.
func secretAttribute(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"password", "secret", "key", "token"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// credentialsDoc is `credentials --format json`'s document.
func credentialsDoc(f credentialsFile, showSecrets bool) map[string]any {
	clouds := map[string]any{}
	for _, cloud := range slices.Sorted(maps.Keys(f.Credentials)) {
		named := map[string]any{}
		for name, c := range f.Credentials[cloud] {
			details := map[string]any{}
			for k, v := range c {
				if k != "auth-type" && (showSecrets || !secretAttribute(k)) {
					details[k] = fmt.Sprint(v)
				}
			}
			named[name] = map[string]any{"auth-type": c["auth-type"], "details": details}
		}
		clouds[cloud] = map[string]any{"cloud-credentials": named}
	}
	return map[string]any{"client-credentials": clouds}
}

func runCredentials(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("credentials")
	format := fs.String("", "format", "yaml", "output format: yaml|json")
	show := fs.Bool("", "show-secrets", false, "include secret attributes")
	fs.Bool("", "client", false, "accepted: credentials are the client's")
	fs.String("c", "controller", "", "accepted for compatibility")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var f credentialsFile
	if err := readYAMLFile(filepath.Join(env.Home, "credentials.yaml"), &f); err != nil {
		return err
	}
	doc := credentialsDoc(f, *show)
	switch *format {
	case "json":
		return json.NewEncoder(env.Stdout).Encode(doc)
	case "yaml":
		return writeYAML(env.Stdout, doc)
	}
	return usage(fmt.Errorf("invalid --format %q: use yaml or json", *format))
}
