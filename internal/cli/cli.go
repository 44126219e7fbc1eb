// Package cli implements the troupe command line: one file per command,
// all registered in commands below. Every command parses its argv with
// internal/cmdline (Juju's flag grammar), talks to the controller only
// through internal/api, prints errors once as `ERROR <message>` and exits
// non-zero on failure. It never prompts.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// Env is what a command sees of the world.
type Env struct {
	Stdout, Stderr io.Writer
	Home           string // $TROUPE_HOME
}

type command struct {
	name    string
	summary string
	run     func(env *Env, args []string) error
}

var commands = []command{
	{"bootstrap", "start a local controller and create model \"default\"", runBootstrap},
	{"deploy", "deploy a charm directory or .charm archive", runDeploy},
	{"status", "show the status of the current model", runStatus},
	{"storage", "list the model's storage instances (alias list-storage)", runStorage},
	{"list-storage", "alias of storage", runStorage},
	{"add-unit", "add units to an application, on new machines or --to existing ones", runAddUnit},
	{"add-machine", "add empty machines to the model", runAddMachine},
	{"model-config", "get, set or reset the model's settings", runModelConfig},
	{"remove-unit", "remove units: they run their tear-down hooks; a machine left without units is released", runRemoveUnit},
	{"remove-application", "remove applications: their units are torn down, then they disappear", runRemoveApplication},
	{"integrate", "integrate (relate) two applications over matching endpoints", runIntegrate},
	{"relate", "alias of integrate", runIntegrate},
	{"remove-relation", "remove a relation: its units run -departed and -broken, then it is gone", runRemoveRelation},
	{"offer", "offer application endpoints to other models of the controller", runOffer},
	{"consume", "add a consumed offer (SAAS) to the model, to integrate with", runConsume},
	{"offers", "list the model's offers and their connections", runOffers},
	{"list-offers", "alias of offers", runOffers},
	{"find-offers", "find the offers of every model you can read", runFindOffers},
	{"remove-offer", "remove offers (--force: with their relations)", runRemoveOffer},
	{"remove-saas", "remove consumed offers: their relations depart on both sides", runRemoveSaas},
	{"refresh", "refresh an application to a new revision of its local charm (--path)", runRefresh},
	{"config", "get, set or reset an application's charm settings", runConfig},
	{"resolve", "retry (or with --no-retry skip) the failed hook of units in error", runResolve},
	{"resolved", "alias of resolve", runResolve},
	{"run", "run an action on units and wait for its results", runRun},
	{"show-task", "show a task (one action run on one unit)", runShowTask},
	{"show-operation", "show an operation and its tasks", runShowOperation},
	{"operations", "list the model's operations (actions run)", runOperations},
	{"cancel-task", "cancel pending tasks", runCancelTask},
	{"exec", "run a command line in units' hook context", runExec},
	{"debug-log", "show agent and hook log lines from the controller, then follow new ones", runDebugLog},
	{"show-agent-report", "show the dependency-engine report of a machine or unit agent", runShowAgentReport},
	{"show-status-log", "show the status history of a unit or machine", runShowStatusLog},
	{"add-secret", "add a user secret to the model; prints its URI", runAddSecret},
	{"update-secret", "update a user secret: new content is a new revision", runUpdateSecret},
	{"grant-secret", "grant applications read access to a user secret", grantOrRevoke(false)},
	{"revoke-secret", "revoke applications' access to a user secret", grantOrRevoke(true)},
	{"remove-secret", "remove a user secret, or one revision of it", runRemoveSecret},
	{"secrets", "list the model's secrets", runSecrets},
	{"list-secrets", "alias of secrets", runSecrets},
	{"show-secret", "show a secret (--reveal: its content)", runShowSecret},
	{"add-model", "add a model", runAddModel},
	{"models", "list models", runModels},
	{"destroy-controller", "stop the controller and every agent it started, and remove its data", runDestroyController},
	{"add-cloud", "add a cloud definition (client or controller) from a clouds.yaml", runAddCloud},
	{"update-cloud", "replace a cloud definition from a clouds.yaml", runUpdateCloud},
	{"show-cloud", "show a cloud definition", runShowCloud},
	{"remove-cloud", "remove a cloud definition", runRemoveCloud},
	{"add-credential", "add credentials for a cloud from a credentials.yaml", runAddCredential},
	{"credentials", "list the client's cloud credentials", runCredentials},
	{"version", "print the version", runVersion},
	{"show-model", "show a model's details", runShowModel},
	{"switch", "make a model the current one", runSwitch},
	{"destroy-model", "destroy a model: its applications and machines are removed, then the model", runDestroyModel},
	{"show-unit", "show a unit's details and relation data", runShowUnit},
	{"trust", "give an application access to trusted credentials (--remove takes it away)", runTrust},
	{"model-constraints", "show the model's constraints", runModelConstraints},
	{"set-model-constraints", "set the model's constraints (k=v ...)", runSetModelConstraints},
	{"add-ssh-key", "add public keys to the model's authorised keys", runAddSSHKey},
	{"remove-ssh-key", "remove keys (by full line, comment or fingerprint) from the model", runRemoveSSHKey},
	{"ssh-keys", "list the model's authorised keys", runSSHKeys},
	{"remove-machine", "remove machines (with --force also the units on them)", runRemoveMachine},
	{"ssh", "run a command on a unit's or machine's host (local provider: this host)", runSSH},
	{"scp", "copy files to or from a unit's or machine's host (local provider: this host)", runSCP},
	{"add-user", "add a user to the controller; prints a first password", runAddUser},
	{"grant", "grant a user read, write or admin access to models", runGrantAccess(false)},
	{"revoke", "revoke a user's access level to models (write leaves read)", runGrantAccess(true)},
	{"login", "log in as a user (password on standard input)", runLogin},
	{"logout", "forget the current user's credentials", runLogout},
	{"change-user-password", "change a user's password (new password on standard input)", runChangeUserPassword},
	{"whoami", "print the current controller, model and user", runWhoAmI},
	{"revoke-agent", "invalidate a machine's or unit's agent credential at once", runRevokeAgent},
	{"rotate-agent-credential", "issue a machine agent a new credential (it reconnects with it)", runRotateAgentCredential},
	{"rotate-certs", "issue the controller's API server a new certificate from its CA", runRotateCerts},
}

// Version is the client version string (Juju-compatible form).
const Version = "3.6.11-ubuntu-amd64"

// Main runs the CLI and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	home := os.Getenv("TROUPE_HOME")
	if home == "" {
		dir, err := os.UserHomeDir()
		if err != nil {
			fmt.Fprintf(stderr, "ERROR cannot find home directory: %v; set TROUPE_HOME\n", err)
			return 1
		}
		home = filepath.Join(dir, ".local", "share", "troupe")
	}
	if abs, err := filepath.Abs(home); err == nil {
		home = abs
	}
	env := &Env{Stdout: stdout, Stderr: stderr, Home: home}
	if len(args) < 2 || args[1] == "help" || args[1] == "--help" || args[1] == "-h" {
		fmt.Fprintln(stdout, "Usage: troupe <command> [flags] [args]\n\nCommands:")
		for _, c := range commands {
			fmt.Fprintf(stdout, "  %-20s %s\n", c.name, c.summary)
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[1] {
			err := c.run(env, args[2:])
			if errors.Is(err, cmdline.ErrHelp) {
				return 0
			}
			var ec exitCode
			if errors.As(err, &ec) {
				return ec.code
			}
			if err != nil {
				fmt.Fprintf(stderr, "ERROR %v\n", err)
				var ue usageError
				if errors.As(err, &ue) {
					return 2
				}
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "ERROR unrecognized command: troupe %s; see `troupe help`\n", args[1])
	return 2
}

type usageError struct{ error }

func usage(err error) error { return usageError{err} }

func parse(fs *cmdline.FlagSet, args []string) ([]string, error) {
	rest, err := fs.Parse(args)
	if err != nil && !errors.Is(err, cmdline.ErrHelp) {
		return nil, usage(err)
	}
	if errors.Is(err, cmdline.ErrHelp) {
		fmt.Print(fs.Usage())
	}
	return rest, err
}

// ClientConfig is $TROUPE_HOME/client.json.
type ClientConfig struct {
	Controller     string `json:"controller"`
	ControllerUUID string `json:"controller-uuid"`
	api.Info
	CurrentModel string `json:"current-model"`
}

func clientConfigPath(home string) string { return filepath.Join(home, "client.json") }

func readClientConfig(home string) (ClientConfig, error) {
	var c ClientConfig
	data, err := os.ReadFile(clientConfigPath(home))
	if errors.Is(err, os.ErrNotExist) {
		return c, fmt.Errorf("no controller is bootstrapped in %s; run `troupe bootstrap` first (or set TROUPE_HOME)", home)
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("client config %s is corrupt: %w", clientConfigPath(home), err)
	}
	return c, nil
}

func writeClientConfig(home string, c ClientConfig) error {
	data, _ := json.MarshalIndent(c, "", "  ")
	tmp := clientConfigPath(home) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, clientConfigPath(home))
}

func connect(env *Env) (*api.Conn, ClientConfig, error) {
	c, err := readClientConfig(env.Home)
	if err != nil {
		return nil, c, err
	}
	conn, err := api.Dial(c.Info)
	return conn, c, err
}

// connectModel connects and resolves the model a command works on: the
// --model reference (any of Juju's four forms) or the current model.
func connectModel(env *Env, modelRef string) (*api.Conn, string, error) {
	if modelRef != "" {
		if _, err := cmdline.ParseModelRef(modelRef); err != nil {
			return nil, "", usage(err)
		}
	}
	conn, cc, err := connect(env)
	if err != nil {
		return nil, "", err
	}
	if modelRef == "" {
		return conn, cc.CurrentModel, nil
	}
	name, err := resolveModelRef(cc, modelRef)
	if err != nil {
		conn.Close()
		return nil, "", err
	}
	return conn, name, nil
}

func runVersion(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("version")
	format := fs.String("", "format", "smart", "output format: smart|json|yaml")
	all := fs.Bool("", "all", false, "print all version details")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	switch *format {
	case "smart", "json", "yaml":
	default:
		return usage(fmt.Errorf("invalid --format %q: use smart, json or yaml", *format))
	}
	if *format == "smart" && !*all {
		fmt.Fprintln(env.Stdout, Version)
		return nil
	}
	doc := versionDoc(*all)
	if *format == "json" {
		return json.NewEncoder(env.Stdout).Encode(doc)
	}
	return writeYAML(env.Stdout, doc)
}
