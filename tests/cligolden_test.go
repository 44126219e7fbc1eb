package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goldenRow is one argv form of the CLI contract
// (shared/spec/cli-contract.md §4) run against the real binary.
type goldenRow struct {
	argv []string
	code int // the exit code wanted
	// stderr is a phrase stderr must contain ("" checks nothing). A
	// failing row's stderr must also start with "ERROR ".
	stderr string
	// stdout checks stdout (parsed with jsonDoc where the form prints
	// JSON). nil: a failing row must print nothing on stdout, a
	// succeeding one is not read.
	stdout func(out string) error
	// then is polled (up to goldenWait) after the command until it
	// returns nil: the effect the command must have, eventually.
	then func() error
}

const goldenWait = 90 * time.Second

// TestCLIGolden is the golden table of the CLI contract: one bootstrapped
// controller, a model with testcharms/hello, kvstore and kvclient (all on
// machine 0), and one row per argv form jubilant builds, with Juju's
// flag order and `--model REF` right after the verb (REF in the four §2
// forms, rotating), asserting the exit code, the stdout fields it parses
// and the stderr phrase. The error rows (bad model reference, unknown
// application or unit, undefined flag, forms troupe refuses) want exit 1
// (found by the controller) or 2 (argv), `ERROR ` first on stderr and
// nothing on stdout.
//
// Deeper behaviour behind these forms is tested elsewhere and not
// repeated here: TestJubilantStyleScript (the jubilant flow through a
// `juju` symlink: temp model, packed .charm deploys, wait() readiness,
// show-unit relation data, run with --params, exec failures, model
// constraints, ssh with OpenSSH options and stdin, add-secret/grant-secret
// read back by secret-get), TestCLICompatModelsAndResources and
// TestDestroyModelForceWithUnitInError (add-model --no-switch, switch,
// deploy --resource/--num-units/--base/--constraints/--trust of a
// charmcraft-only archive, refresh --resource, remove-machine,
// destroy-model --force --timeout), TestActions and TestExecMachine (task
// JSON, --wait timeouts, action-fail, crashes, exec --machine),
// TestSecrets (update-secret revisions, show-secret --revision, grants
// over relations), TestConfig, TestModelConfigReachesUnits,
// TestAddAndRemoveUnit, TestRelations, TestRefresh*, TestCMR* (offer,
// consume), TestDebugLog*, and in internal/cli TestArgvRejectedBeforeConnecting,
// TestVersionJSONMatchesPlain, TestResolveModelRef and the shape tests.
//
// New here: bootstrap CLOUD NAME with every flag jubilant may pass,
// add-model with CLOUD/--controller/--config/--credential, add-machine
// with --base/--constraints/--disks/-n/--private-key/--public-key,
// add-unit --num-units N --to P,P, remove-unit with --destroy-storage
// --force, config k=v --reset k in one call, model-config k=v --reset k,
// trust --scope cluster, integrate/remove-relation --force,
// remove-application --destroy-storage --force, deploy --bind --force,
// refresh with every flag jubilant sends, offer NAME --controller and
// consume CTRL:OWNER/MODEL.APP ALIAS, update-secret --name
// --auto-prune, grant-secret of a URI to a comma list, ssh and scp
// with --container and --no-host-key-checks, destroy-model --no-wait
// --release-storage; and the refusals: add-machine lxd, lxd:N and ssh:,
// remove-unit --num-units (Juju's machine-model message), integrate
// --via, deploy and refresh --channel/--revision, deploy --overlay,
// deploy and add-unit --attach-storage, --destroy-storage with
// --release-storage.
func TestCLIGolden(t *testing.T) {
	e := newEnv(t)
	work := t.TempDir()
	writeFile := func(name, body string) string {
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Model references in the four forms of §2, all naming model g.
	const (
		mBare = "g"
		mUser = "admin/g"
		mCtrl = "golden:g"
		mFull = "golden:admin/g"
	)
	status := func() (map[string]any, error) {
		r := e.troupe(commandTimeout, "status", "--model", mBare, "--format", "json")
		if r.code != 0 {
			return nil, fmt.Errorf("status: %s", r)
		}
		return jsonDoc(r.stdout)
	}
	// inStatus polls status until cond holds.
	inStatus := func(cond func(st map[string]any) error) func() error {
		return func() error {
			st, err := status()
			if err != nil {
				return err
			}
			return cond(st)
		}
	}
	unitsIdle := func(units ...string) func() error {
		return inStatus(func(st map[string]any) error {
			for _, u := range units {
				app, _, _ := strings.Cut(u, "/")
				if got := jget(st, "applications", app, "units", u, "juju-status", "current"); got != "idle" {
					return fmt.Errorf("%s agent is %v, want idle", u, got)
				}
			}
			return nil
		})
	}
	secretField := func(out string, path ...string) (any, error) {
		doc, err := jsonDoc(out)
		if err != nil {
			return nil, err
		}
		if len(doc) != 1 {
			return nil, fmt.Errorf("want one secret, got %d: %s", len(doc), out)
		}
		for _, v := range doc {
			return jget(v, path...), nil
		}
		return nil, nil
	}
	execStdout := func(want string) func(string) error {
		return func(out string) error {
			doc, err := jsonDoc(out)
			if err != nil {
				return err
			}
			for _, task := range doc {
				if s := jget(task, "status"); s != "completed" {
					return fmt.Errorf("task status %v", s)
				}
				if got := jget(task, "results", "stdout"); got != want {
					return fmt.Errorf("results.stdout %q, want %q", got, want)
				}
				return nil
			}
			return fmt.Errorf("no task in %s", out)
		}
	}
	empty := func(out string) error {
		if out != "" {
			return fmt.Errorf("stdout %q, want empty", out)
		}
		return nil
	}

	// bootstrap CLOUD NAME with jubilant's flags (§4.5); the API port is
	// troupe's own, since every test has its controller on a free one.
	r := e.troupe(bootstrapTimeout, "bootstrap", "localhost", "golden", "--no-switch", "--bootstrap-base", "ubuntu@24.04",
		"--bootstrap-constraints", "cores=1", "--bootstrap-constraints", "mem=1G", "--config", "logging-config=<root>=INFO",
		"--constraints", "mem=1G", "--credential", "local", "--force", "--model-default", "update-status-hook-interval=5m",
		"--storage-pool", "name=fast", "--storage-pool", "type=rootfs", "--to", "0", "--metadata-source", work,
		"--api-port", strconv.Itoa(freePort(t)))
	if r.code != 0 || !strings.Contains(r.stderr, `controller "golden" is up`) {
		t.Fatalf("bootstrap CLOUD NAME with jubilant's flags: %s", r)
	}

	secretFile := writeFile("secret.yaml", "username: golden\npassword: s3cr3t\n")
	secretFile2 := writeFile("secret2.yaml", "username: golden\npassword: rotated\n")
	privKey := writeFile("id_golden", "not a real key\n")
	pubKey := writeFile("id_golden.pub", "ssh-ed25519 AAAA golden\n")
	scpSrc := writeFile("scp-src.txt", "copied")
	scpDst := filepath.Join(work, "scp-dst.txt")
	sshKey := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp1YmlsYW50LXRlc3Qta2V5LWZvci10cm91cGUtMDEy golden@test"
	var uri, sid string // of the secret gsec, once added

	rows := []goldenRow{
		// §4.1 models.
		{argv: []string{"add-model", "--no-switch", "g", "localhost", "--controller", "golden", "--config", "update-status-hook-interval=7m", "--credential", "local"},
			stderr: "Added 'g' model on golden"},
		{argv: []string{"models", "--format", "json"}, stdout: func(out string) error {
			doc, err := jsonDoc(out)
			if err != nil {
				return err
			}
			if doc["current-model"] != "default" {
				return fmt.Errorf("current-model %v: add-model --no-switch switched", doc["current-model"])
			}
			models, _ := doc["models"].([]any)
			for _, m := range models {
				if jget(m, "short-name") == "g" && jget(m, "name") == "admin/g" {
					return nil
				}
			}
			return fmt.Errorf("model g not listed")
		}},
		{argv: []string{"show-model", "--format", "json", mFull}, stdout: func(out string) error {
			doc, err := jsonDoc(out)
			if err != nil {
				return err
			}
			return fields(doc, map[string]any{"g.name": "admin/g", "g.short-name": "g", "g.model-type": "iaas", "g.controller-name": "golden",
				"g.is-controller": false, "g.life": "alive", "g.status.current": "available"})
		}},
		{argv: []string{"model-config", "--model", mUser, "--format", "json"}, stdout: func(out string) error {
			doc, err := jsonDoc(out)
			if err != nil {
				return err
			}
			return fields(doc, map[string]any{"update-status-hook-interval.Value": "7m", "update-status-hook-interval.Source": "model"})
		}},
		{argv: []string{"model-config", "--model", mCtrl, "automatically-retry-hooks=false", "--reset", "update-status-hook-interval"}},
		{argv: []string{"model-config", "--model", mFull, "--format", "json"}, stdout: func(out string) error {
			doc, err := jsonDoc(out)
			if err != nil {
				return err
			}
			return fields(doc, map[string]any{"update-status-hook-interval.Value": "5m", "update-status-hook-interval.Source": "default",
				"automatically-retry-hooks.Value": false, "automatically-retry-hooks.Source": "model"})
		}},
		{argv: []string{"model-config", "--model", mBare, "--reset", "automatically-retry-hooks"}},
		{argv: []string{"model-config", "--model", mBare, "--format", "json"}, stdout: func(out string) error {
			doc, err := jsonDoc(out)
			if err != nil {
				return err
			}
			return fields(doc, map[string]any{"automatically-retry-hooks.Value": true, "automatically-retry-hooks.Source": "default"})
		}},
		{argv: []string{"model-constraints", "--model", mUser, "--format", "json"}, stdout: jsonEquals(map[string]any{})},
		{argv: []string{"set-model-constraints", "--model", mUser, "mem=1G"}},
		{argv: []string{"model-constraints", "--model", mCtrl, "--format", "json"}, stdout: jsonEquals(map[string]any{"mem": 1024.0})},

		// §4.2 deploy in jubilant's flag order; the refusals first, so
		// that they can be seen to leave nothing behind.
		{argv: []string{"deploy", "--model", mBare, "./testcharms/hello", "h2", "--channel", "latest/edge"}, code: 2, stderr: "Charmhub"},
		{argv: []string{"deploy", "--model", mBare, "./testcharms/hello", "h2", "--revision", "3"}, code: 2, stderr: "Charmhub"},
		{argv: []string{"deploy", "--model", mBare, "./testcharms/hello", "h2", "--overlay", secretFile}, code: 2, stderr: "--overlay is not supported"},
		{argv: []string{"deploy", "--model", mBare, "./testcharms/hello", "h2", "--attach-storage", "data/0"}, code: 2, stderr: "--attach-storage is not supported"},
		{argv: []string{"deploy", "--model", mCtrl, "./testcharms/hello", "--base", "ubuntu@24.04", "--config", "greeting=hi",
			"--constraints", "mem=256M", "--constraints", "cores=1", "--trust"},
			// When deploy returns, status lists the app and its unit.
			then: inStatus(func(st map[string]any) error {
				return fields(st, map[string]any{"applications.hello.charm": "local:hello-0", "applications.hello.charm-origin": "local",
					"applications.hello.charm-name": "hello", "applications.hello.charm-rev": 0.0, "applications.hello.exposed": false,
					"applications.hello.base.name": "ubuntu", "applications.hello.base.channel": "24.04",
					"applications.hello.units.hello/0.machine": "0"})
			})},
		{argv: []string{"deploy", "--model", mBare, "./testcharms/kvstore", "--bind", "db=alpha cluster=alpha", "--force", "--to", "0"}},
		{argv: []string{"deploy", "--model", mBare, "./testcharms/kvclient", "--to", "0"},
			then: unitsIdle("hello/0", "kvstore/0", "kvclient/0")},

		// status, show-unit, config, trust.
		{argv: []string{"status", "--model", mFull, "--format", "json"}, stdout: func(out string) error {
			st, err := jsonDoc(out)
			if err != nil {
				return err
			}
			if err := fields(st, map[string]any{"model.name": "g", "model.type": "iaas", "model.controller": "golden",
				"applications.h2": nil, "applications.hello.units.hello/0.workload-status.current": "active"}); err != nil {
				return err
			}
			for _, k := range []string{"model.cloud", "model.version"} {
				if _, ok := jget(st, strings.Split(k, ".")...).(string); !ok {
					return fmt.Errorf("%s is not a string", k)
				}
			}
			if _, ok := jget(st, "machines", "0").(map[string]any); !ok {
				return fmt.Errorf("machines has no 0: %v", st["machines"])
			}
			return nil
		}},
		{argv: []string{"show-unit", "--model", mUser, "hello/0", "--format", "json"}, stdout: func(out string) error {
			doc, err := jsonDoc(out)
			if err != nil {
				return err
			}
			return fields(doc, map[string]any{"hello/0.charm": "local:hello-0", "hello/0.leader": true, "hello/0.opened-ports": []any{}})
		}},
		{argv: []string{"config", "--model", mCtrl, "--format", "json", "hello"}, stdout: configIs("hi", 8080, true)},
		{argv: []string{"config", "--model", mFull, "hello", "greeting=bonjour", "port=9090", "--reset", "ledger-dir"}},
		{argv: []string{"config", "--model", mBare, "--format", "json", "hello"}, stdout: configIs("bonjour", 9090, true)},
		{argv: []string{"config", "--model", mUser, "hello", "--reset", "greeting,port"}},
		{argv: []string{"trust", "--model", mCtrl, "hello", "--remove"}},
		{argv: []string{"config", "--model", mFull, "--format", "json", "hello"}, stdout: configIs("hello", 8080, false)},
		{argv: []string{"trust", "--model", mBare, "hello", "--scope", "cluster"}},
		{argv: []string{"config", "--model", mBare, "--format", "json", "hello"}, stdout: configIs("hello", 8080, true)},

		// integrate / remove-relation.
		{argv: []string{"integrate", "--model", mUser, "kvstore", "kvclient", "--via", "10.0.0.0/24,10.0.1.0/24"}, code: 2, stderr: "cross-controller"},
		{argv: []string{"integrate", "--model", mUser, "kvstore", "kvclient:db"},
			then: inStatus(func(st map[string]any) error {
				rels, _ := jget(st, "applications", "kvclient", "relations", "db").([]any)
				if len(rels) != 1 || jget(rels[0], "related-application") != "kvstore" {
					return fmt.Errorf("kvclient relations: %v", jget(st, "applications", "kvclient", "relations"))
				}
				return nil
			})},

		// §4.3 run and exec task JSON.
		{argv: []string{"exec", "--model", mCtrl, "--format", "json", "--unit", "hello/0", "--wait", "60s", "--", "echo", "bar", "baz"},
			stdout: execStdout("bar baz\n")},
		{argv: []string{"exec", "--model", mFull, "--format", "json", "--machine", "0", "--wait", "60.0s", "--", "echo foo"},
			stdout: func(out string) error {
				doc, err := jsonDoc(out)
				if err != nil {
					return err
				}
				return fields(doc, map[string]any{"0.status": "completed", "0.results.stdout": "foo\n"})
			}},
		{argv: []string{"exec", "--model", mBare, "--format", "json", "--unit", "hello/9", "--", "true"}, stdout: empty, stderr: "failed to schedule"},
		{argv: []string{"run", "--model", mUser, "--format", "json", "hello/0", "greet", "--wait", "10s"}, stdout: empty, stderr: "failed to schedule"},
		{argv: []string{"run", "--model", mUser, "--format", "json", "hello/9", "greet", "--wait", "10s", "--params", secretFile}, stdout: empty, stderr: "failed to schedule"},

		// add-machine, add-unit, remove-unit.
		{argv: []string{"add-machine", "--model", mBare, "lxd"}, code: 2, stderr: "add-model NAME lxd"},
		{argv: []string{"add-machine", "--model", mBare, "lxd:0"}, code: 2, stderr: "inside machines"},
		{argv: []string{"add-machine", "--model", mBare, "ssh:ubuntu@10.0.0.9"}, code: 2, stderr: "manually provisioned machines are not supported"},
		{argv: []string{"add-machine", "--model", mCtrl, "--base", "ubuntu@24.04", "--constraints", "cores=1", "--constraints", "mem=512M",
			"--disks", "d1 d2", "-n", "2", "--private-key", privKey, "--public-key", pubKey}, stderr: "created machine 1\ncreated machine 2",
			then: inStatus(func(st map[string]any) error {
				for _, id := range []string{"1", "2"} {
					c, _ := jget(st, "machines", id, "constraints").(string)
					if !strings.Contains(c, "cores=1") || !strings.Contains(c, "mem=512M") {
						return fmt.Errorf("machine %s constraints %q, want cores=1 and mem=512M", id, c)
					}
				}
				return nil
			})},
		{argv: []string{"add-unit", "--model", mBare, "hello", "--attach-storage", "data/0"}, code: 2, stderr: "--attach-storage is not supported"},
		{argv: []string{"add-unit", "--model", mFull, "hello", "--num-units", "2", "--to", "1,2"}, stderr: "Added hello/1, hello/2",
			then: inStatus(func(st map[string]any) error {
				return fields(st, map[string]any{"applications.hello.units.hello/1.machine": "1", "applications.hello.units.hello/2.machine": "2"})
			})},
		{argv: []string{"remove-unit", "--model", mUser, "--no-prompt", "hello", "--num-units", "1"}, code: 2, stderr: "--num-units for non kubernetes models not valid"},
		{argv: []string{"remove-unit", "--model", mUser, "--no-prompt", "hello/2", "--destroy-storage", "--force"}, stderr: "will remove unit hello/2",
			then: inStatus(func(st map[string]any) error {
				if u := jget(st, "applications", "hello", "units", "hello/2"); u != nil {
					return fmt.Errorf("hello/2 still in status: %v", u)
				}
				return nil
			})},

		// §4.4 secrets.
		{argv: []string{"secrets", "--model", mBare, "--format", "json"}, stdout: jsonEquals(map[string]any{})},
		{argv: []string{"add-secret", "--model", mCtrl, "gsec", "--info", "first", "--file", secretFile}, stdout: func(out string) error {
			if !regexp.MustCompile(`^secret:[0-9a-v]{20}\n$`).MatchString(out) {
				return fmt.Errorf("add-secret printed %q, want secret:<id> on one line", out)
			}
			uri = strings.TrimSpace(out)
			sid = strings.TrimPrefix(uri, "secret:")
			return nil
		}},
		{argv: []string{"add-secret", "--model", mCtrl, "pruned", "--file", secretFile}},
		{argv: []string{"grant-secret", "--model", mFull, "gsec", "nosuch"}, code: 1, stderr: `application "nosuch" not found`},
		{argv: []string{"grant-secret", "--model", mFull, "gsec", "hello"}},
		{argv: []string{"secrets", "--model", mUser, "--format", "json"}, stdout: func(out string) error {
			doc, err := jsonDoc(out)
			if err != nil {
				return err
			}
			if len(doc) != 2 {
				return fmt.Errorf("want 2 secrets, got %d", len(doc))
			}
			return fields(doc, map[string]any{sid + ".owner": "<model>", sid + ".name": "gsec", sid + ".description": "first",
				sid + ".revision": 1.0, sid + ".content": nil})
		}},
		{argv: []string{"exec", "--model", mBare, "--format", "json", "--unit", "hello/0", "--", "secret-get", "@uri", "password"},
			stdout: execStdout("s3cr3t\n")},
		{argv: []string{"update-secret", "--model", mBare, "gsec", "--info", "second", "--file", secretFile2}},
		{argv: []string{"show-secret", "--model", mCtrl, "@uri", "--format", "json", "--reveal"}, stdout: func(out string) error {
			doc, err := jsonDoc(out)
			if err != nil {
				return err
			}
			if err := fields(doc, map[string]any{sid + ".revision": 2.0, sid + ".description": "second",
				sid + ".content.Data": map[string]any{"username": "golden", "password": "rotated"}}); err != nil {
				return err
			}
			access, _ := jget(doc, sid, "access").([]any)
			if len(access) != 1 || jget(access[0], "target") != "application-hello" || jget(access[0], "role") != "view" {
				return fmt.Errorf("access %v, want view for application-hello", jget(doc, sid, "access"))
			}
			return nil
		}},
		{argv: []string{"show-secret", "--model", mCtrl, "@sid", "--format", "json", "--reveal", "--revision", "1"}, stdout: func(out string) error {
			got, err := secretField(out, "content", "Data", "password")
			if err == nil && got != "s3cr3t" {
				err = fmt.Errorf("revision 1 password %v", got)
			}
			return err
		}},
		{argv: []string{"grant-secret", "--model", mFull, "@uri", "kvstore,kvclient"}},
		{argv: []string{"show-secret", "--model", mBare, "gsec", "--format", "json"}, stdout: func(out string) error {
			a, err := secretField(out, "access")
			if err == nil && len(a.([]any)) != 3 {
				err = fmt.Errorf("access %v, want hello, kvstore and kvclient", a)
			}
			return err
		}},
		{argv: []string{"update-secret", "--model", mUser, "pruned", "--name", "pruned2", "--auto-prune", "--file", secretFile2}},
		{argv: []string{"show-secret", "--model", mUser, "pruned2", "--format", "json", "--revisions"}, stdout: func(out string) error {
			revs, err := secretField(out, "revisions")
			if err != nil {
				return err
			}
			name, _ := secretField(out, "name")
			rs, _ := revs.([]any)
			if name != "pruned2" || len(rs) != 1 || jget(rs[0], "revision") != 2.0 {
				return fmt.Errorf("name %v revisions %v: want pruned2 with only revision 2 (auto-prune, revision 1 unread)", name, revs)
			}
			return nil
		}},
		{argv: []string{"show-secret", "--model", mUser, "pruned", "--format", "json"}, code: 1, stderr: "not found"},
		{argv: []string{"remove-secret", "--model", mFull, "pruned2"}},
		{argv: []string{"remove-secret", "--model", mFull, "gsec", "--revision", "1"}},
		{argv: []string{"secrets", "--model", mBare, "--format", "json"}, stdout: func(out string) error {
			doc, err := jsonDoc(out)
			if err != nil {
				return err
			}
			if len(doc) != 1 {
				return fmt.Errorf("want only gsec, got %v", out)
			}
			return fields(doc, map[string]any{sid + ".name": "gsec", sid + ".revision": 2.0})
		}},
		{argv: []string{"remove-secret", "--model", mFull, "gsec"}},
		{argv: []string{"secrets", "--model", mBare, "--format", "json"}, stdout: jsonEquals(map[string]any{})},

		// ssh, scp, ssh keys, debug-log, version.
		{argv: []string{"ssh", "--model", mUser, "--container", "workload", "--no-host-key-checks", "ubuntu@hello/0", "-o", "StrictHostKeyChecking=no", "echo", "hi"},
			stdout: func(out string) error {
				if out != "hi\n" {
					return fmt.Errorf("ssh printed %q", out)
				}
				return nil
			}},
		{argv: []string{"scp", "--model", mCtrl, "--container", "workload", "--no-host-key-checks", "--", "-q", scpSrc, "hello/0:" + scpDst},
			then: func() error {
				if got, err := os.ReadFile(scpDst); err != nil || string(got) != "copied" {
					return fmt.Errorf("scp destination: %q %v", got, err)
				}
				return nil
			}},
		{argv: []string{"add-ssh-key", "--model", mFull, sshKey}},
		{argv: []string{"ssh-keys", "--model", mFull}, stdout: func(out string) error {
			if strings.TrimSpace(out) != sshKey {
				return fmt.Errorf("ssh-keys: %q", out)
			}
			return nil
		}},
		{argv: []string{"remove-ssh-key", "--model", mFull, sshKey}},
		{argv: []string{"debug-log", "--model", mBare, "--limit", "5"}, stdout: func(out string) error {
			if n := len(strings.Split(strings.TrimRight(out, "\n"), "\n")); out == "" || n > 5 {
				return fmt.Errorf("debug-log --limit 5 printed %d lines: %q", n, out)
			}
			return nil
		}},
		{argv: []string{"version", "--format", "json", "--all"}, stdout: func(out string) error {
			doc, err := jsonDoc(out)
			if err != nil {
				return err
			}
			if v := e.troupe(commandTimeout, "version"); strings.TrimSpace(v.stdout) != doc["version"] {
				return fmt.Errorf("plain version %q, JSON %v", v.stdout, doc["version"])
			}
			return nil
		}},

		// refresh and the removals.
		{argv: []string{"refresh", "--model", mBare, "hello", "--channel", "latest/edge"}, code: 2, stderr: "Charmhub"},
		{argv: []string{"refresh", "--model", mBare, "hello", "--revision", "3"}, code: 2, stderr: "Charmhub"},
		{argv: []string{"refresh", "--model", mUser, "hello", "--base", "ubuntu@24.04", "--config", "greeting=refreshed",
			"--force", "--force-base", "--force-units", "--path", "./testcharms/hello", "--trust"},
			then: inStatus(func(st map[string]any) error {
				return fields(st, map[string]any{"applications.hello.charm": "local:hello-1", "applications.hello.charm-rev": 1.0})
			})},
		{argv: []string{"config", "--model", mUser, "--format", "json", "hello"}, stdout: configIs("refreshed", 8080, true)},
		{argv: []string{"remove-relation", "--model", mCtrl, "kvstore", "kvclient", "--force"},
			then: inStatus(func(st map[string]any) error {
				for _, app := range []string{"kvstore", "kvclient"} {
					if rels, _ := jget(st, "applications", app, "relations").(map[string]any); len(rels) > 0 && rels["db"] != nil {
						return fmt.Errorf("%s relations still %v", app, rels)
					}
				}
				return nil
			})},
		// §4.5 offer (never --model) and consume into a second model.
		{argv: []string{"add-model", "--no-switch", "scratch"}},
		{argv: []string{"offer", "admin/g.kvstore:db", "--controller", "golden", "kvdb"},
			then: inStatus(func(st map[string]any) error {
				return fields(st, map[string]any{"offers.kvdb.application": "kvstore", "offers.kvdb.endpoints.db.interface": "kv"})
			})},
		{argv: []string{"consume", "--model", "scratch", "golden:admin/g.kvdb", "kvremote"},
			then: func() error {
				r := e.troupe(commandTimeout, "status", "--model", "scratch", "--format", "json")
				st, err := jsonDoc(r.stdout)
				if err != nil {
					return err
				}
				if url, _ := jget(st, "application-endpoints", "kvremote", "url").(string); !strings.Contains(url, "g.kvdb") {
					return fmt.Errorf("scratch application-endpoints: %v", st["application-endpoints"])
				}
				return nil
			}},
		{argv: []string{"remove-application", "--model", mFull, "--no-prompt", "kvclient", "--destroy-storage", "--force"},
			stderr: "will remove application kvclient",
			then: inStatus(func(st map[string]any) error {
				if a := jget(st, "applications", "kvclient"); a != nil {
					return fmt.Errorf("kvclient still in status")
				}
				return nil
			})},

		// Errors: bad model references, unknown entities, undefined flags.
		{argv: []string{"status", "--model", "other:g", "--format", "json"}, code: 1, stderr: `controller "other" not found`},
		{argv: []string{"status", "--model", "nosuch", "--format", "json"}, code: 1, stderr: `"nosuch" not found`},
		{argv: []string{"status", "--model", "golden:admin/", "--format", "json"}, code: 2, stderr: "invalid model reference"},
		{argv: []string{"show-model", "--format", "json", "golden:admin/nosuch"}, code: 1, stderr: `model "nosuch" not found`},
		{argv: []string{"status", "--model", mBare, "--format", "json", "--colour"}, code: 2, stderr: "option provided but not defined: --colour"},
		{argv: []string{"config", "--model", mBare, "--format", "json", "nosuch"}, code: 1, stderr: "nosuch"},
		{argv: []string{"show-unit", "--model", mBare, "nosuch/0", "--format", "json"}, code: 1, stderr: "nosuch/0"},
		{argv: []string{"add-unit", "--model", mBare, "nosuch"}, code: 1, stderr: "nosuch"},
		{argv: []string{"integrate", "--model", mBare, "hello", "nosuch"}, code: 1, stderr: "nosuch"},
		{argv: []string{"remove-unit", "--model", mBare, "--no-prompt", "nosuch/0"}, code: 1, stderr: "nosuch/0"},

		// destroy-model: --no-wait returns while the model is dying.
		{argv: []string{"destroy-model", "golden:admin/scratch", "--no-prompt", "--destroy-storage", "--release-storage"}, code: 2, stderr: "cannot both be specified"},
		{argv: []string{"destroy-model", "golden:admin/scratch", "--no-prompt", "--no-wait", "--release-storage"}, stderr: `Destroying model "scratch"`,
			then: func() error {
				if r := e.troupe(commandTimeout, "show-model", "--format", "json", "scratch"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
					return fmt.Errorf("scratch not gone yet: %s", r)
				}
				return nil
			}},
		{argv: []string{"destroy-model", mFull, "--no-prompt", "--destroy-storage", "--force", "--timeout", "120s"}, stderr: `Model "g" destroyed.`},
	}

	for i, row := range rows {
		argv := make([]string, len(row.argv))
		for j, a := range row.argv {
			switch a {
			case "@uri":
				a = uri
			case "@sid":
				a = sid
			}
			argv[j] = a
		}
		name := fmt.Sprintf("row %d: troupe %s", i, strings.Join(argv, " "))
		r := e.troupe(commandTimeout, argv...)
		switch {
		case r.err != nil || r.code != row.code:
			t.Errorf("%s: want exit %d\n%s", name, row.code, r)
			continue
		case row.stderr != "" && !strings.Contains(r.stderr, row.stderr):
			t.Errorf("%s: stderr lacks %q\n%s", name, row.stderr, r)
		case row.code != 0 && !strings.HasPrefix(r.stderr, "ERROR "):
			t.Errorf("%s: a failure's stderr must start with ERROR\n%s", name, r)
		case row.code != 0 && row.stdout == nil && r.stdout != "":
			t.Errorf("%s: a failure must print nothing on stdout\n%s", name, r)
		}
		if row.stdout != nil {
			if err := row.stdout(r.stdout); err != nil {
				t.Errorf("%s: stdout: %v\n%s", name, err, r)
			}
		}
		if row.then != nil {
			deadline := time.Now().Add(goldenWait)
			for {
				err := row.then()
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: its effect never showed within %s: %v", name, goldenWait, err)
				}
				time.Sleep(250 * time.Millisecond)
			}
		}
	}
}

// configIs checks `config APP --format json` of testcharms/hello: the
// greeting and port values with their types, and application-config.trust.
func configIs(greeting string, port int, trust bool) func(string) error {
	return func(out string) error {
		doc, err := jsonDoc(out)
		if err != nil {
			return err
		}
		return fields(doc, map[string]any{"application": "hello", "settings.greeting.value": greeting, "settings.greeting.type": "string",
			"settings.port.value": float64(port), "settings.port.type": "int", "application-config.trust.value": trust,
			"application-config.trust.type": "bool"})
	}
}

// jsonDoc parses stdout that must be exactly one JSON object.
func jsonDoc(out string) (map[string]any, error) {
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("stdout is not a JSON object: %v: %q", err, out)
	}
	if dec.More() {
		return nil, fmt.Errorf("stdout holds more than one JSON document: %q", out)
	}
	if doc == nil {
		return nil, fmt.Errorf("stdout is null")
	}
	return doc, nil
}

func jsonEquals(want map[string]any) func(string) error {
	return func(out string) error {
		doc, err := jsonDoc(out)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(doc, want) {
			return fmt.Errorf("got %v, want %v", doc, want)
		}
		return nil
	}
}

// jget follows object keys into a parsed JSON document; nil when a key is
// missing.
func jget(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// fields checks dotted paths (split on ".", so keys with dots cannot be
// named; unit names with "/" can) against wanted values; a wanted nil
// means the key must be absent.
func fields(doc map[string]any, want map[string]any) error {
	var bad []string
	for path, w := range want {
		got := jget(doc, strings.Split(path, ".")...)
		if !reflect.DeepEqual(got, w) {
			bad = append(bad, fmt.Sprintf("%s = %#v, want %#v", path, got, w))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}
