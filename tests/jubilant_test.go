package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestJubilantStyleScript runs tests/scripts/jubilant_like.py against a
// fresh controller with `juju` on PATH as a symlink to troupe: what a
// jubilant integration test does (temp model with add-model --no-switch,
// packed .charm deploys, integrate, wait() readiness from status JSON,
// show-unit relation data, config and trust, run and exec task JSON,
// add-secret --file and grant-secret with the granted unit reading it by
// secret-get (and an ungranted one refused), model constraints, ssh keys, debug-log --limit, destroy-model
// --no-prompt --destroy-storage --force --timeout 5m). stdin is closed, so
// any prompt fails the script.
func TestJubilantStyleScript(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is required for this test: %v", err)
	}
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	shim := t.TempDir()
	if err := os.Symlink(filepath.Join(e.bin, "troupe"), filepath.Join(shim, "juju")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join(e.root, "tests", "scripts", "jubilant_like.py"), e.root, t.TempDir())
	cmd.Dir = e.root
	var env []string
	for _, kv := range e.environ() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PATH="+shim+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Stdin = nil // /dev/null: a prompt would read EOF and fail
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jubilant-style script failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"ok": true`) {
		t.Fatalf("script ended without its success line:\n%s", out)
	}
	t.Logf("script: %s", strings.TrimSpace(string(out)))
}
