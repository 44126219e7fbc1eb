package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWaitFileAndWatch: `deploy --wait` returns only once every unit has
// settled and shows progress lines when not on a terminal; `config --file`
// with `--wait` runs config-changed with the file's value (k=v arguments
// win); `add-unit --wait` on a terminal rewrites one progress line in
// place and returns once the new unit settled; `status --watch` prints
// frames until interrupted and exits 0.
func TestWaitFileAndWatch(t *testing.T) {
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	r := e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "-n", "2", "--config", "ledger-dir="+ledgers, "--wait", "2m")
	if !strings.Contains(r.stderr, "units settled 2/2") {
		t.Errorf("deploy --wait printed no final progress line: %s", r)
	}
	doc, raw, err := e.status()
	if err != nil || !appsReady(map[string]int{"hello": 2})(doc) {
		t.Fatalf("deploy --wait returned before the units settled (%v):\n%s", err, raw)
	}
	if bad := e.troupe(commandTimeout, "deploy", "./testcharms/flaky", "--wait", "1m"); bad.code == 0 || !strings.Contains(bad.stderr, "in error") {
		t.Errorf("deploy --wait of a charm whose install fails must fail naming the unit in error: %s", bad)
	}

	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte("hello:\n  greeting: from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustTroupe(commandTimeout, "config", "hello", "--file", file, "--wait", "1m")
	if got := strings.TrimSpace(e.mustTroupe(commandTimeout, "config", "hello", "greeting").stdout); got != "from-file" {
		t.Errorf("greeting after config --file: %q", got)
	}
	for _, u := range []string{"hello-0", "hello-1"} {
		n := 0
		for _, h := range readLines(t, filepath.Join(ledgers, u)) {
			if h == "config-changed" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%s ran config-changed %d times, want 2 (deploy, then the file's change) when config --wait returned", u, n)
		}
	}

	// add-unit --wait, on a terminal (script(1) gives it a pty): the
	// progress line is rewritten in place and the command returns once
	// the new unit has settled too.
	tty := exec.Command("script", "-qec", filepath.Join(e.bin, "troupe")+" add-unit hello --wait 2m", "/dev/null")
	tty.Dir, tty.Env = e.root, e.environ()
	out, err := tty.CombinedOutput()
	if err != nil {
		t.Fatalf("add-unit --wait on a terminal: %v\n%q", err, out)
	}
	if !bytes.Contains(out, []byte("\r\033[K")) || !bytes.Contains(out, []byte("units settled 3/3")) {
		t.Errorf("add-unit --wait on a terminal: want the progress line rewritten in place (\\r ESC[K) ending in units settled 3/3, got %q", out)
	}
	if doc, raw, err := e.status(); err != nil || !appsReady(map[string]int{"hello": 3})(doc) {
		t.Fatalf("add-unit --wait returned before the new unit settled (%v):\n%s", err, raw)
	}

	cmd := exec.Command(filepath.Join(e.bin, "troupe"), "status", "--watch", "300ms")
	cmd.Dir, cmd.Env = e.root, e.environ()
	var watched bytes.Buffer
	cmd.Stdout, cmd.Stderr = &watched, &watched
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("status --watch did not exit 0 on SIGINT: %v\n%s", err, watched.String())
	}
	if frames := strings.Count(watched.String(), "Model "); frames < 2 {
		t.Errorf("status --watch printed %d frames in 1.5s at 300ms, want several:\n%s", frames, watched.String())
	}
}
