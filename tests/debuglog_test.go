package tests

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// logLine is `juju debug-log`'s line format:
// <entity>: <hh:mm:ss> <LEVEL> <module> <message>.
var logLine = regexp.MustCompile(`^(unit-[a-z0-9-]+-[0-9]+|machine-[0-9]+): [0-9]{2}:[0-9]{2}:[0-9]{2} (TRACE|DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+) (.*)$`)

func outputLines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// pollDebugLog runs debug-log with args until its output contains every
// want string (agents send their lines asynchronously) and returns the
// lines; the wait is bounded only so a broken build fails instead of
// hanging.
func pollDebugLog(t *testing.T, e *env, want []string, args ...string) []string {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		r := e.mustTroupe(commandTimeout, append([]string{"debug-log"}, args...)...)
		missing := ""
		for _, w := range want {
			if !strings.Contains(r.stdout, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return outputLines(r.stdout)
		}
		if time.Now().After(deadline) {
			t.Fatalf("debug-log %v never showed %q; last output:\n%s", args, missing, r.stdout)
		}
		time.Sleep(time.Second)
	}
}

// TestDebugLog deploys hello and reads its agents' lines back through
// `troupe debug-log`: filtered by unit and level, limited, and tailed
// across a config change.
func TestDebugLog(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "-n", "2")
	waitFor(t, e, readyTimeout, "hello units active and idle", appsReady(map[string]int{"hello": 2}))

	t.Run("include", func(t *testing.T) {
		want := []string{
			"unit-hello-0: ", "INFO unit.hello/0.juju-log hello: running install",
			"INFO unit.hello/0.juju-log hello: running config-changed",
			"INFO unit.hello/0.juju-log hello: running start",
			`INFO juju.worker.uniter running operation op="run install hook"`,
			"INFO juju.worker.uniter hook committed hook=start",
		}
		lines := pollDebugLog(t, e, want, "--replay", "--no-tail", "--include", "unit-hello-0")
		for _, l := range lines {
			if !logLine.MatchString(l) {
				t.Errorf("line not in debug-log format: %q", l)
			}
			if !strings.HasPrefix(l, "unit-hello-0: ") {
				t.Errorf("--include unit-hello-0 shows another entity's line: %q", l)
			}
		}
		// The other unit's lines exist; they were filtered out.
		pollDebugLog(t, e, []string{"unit-hello-1: ", "INFO unit.hello/1.juju-log hello: running install"}, "--replay", "--no-tail")
		// The uniter's order: install runs (and its juju-log line comes)
		// before start.
		idx := func(s string) int {
			for i, l := range lines {
				if strings.Contains(l, s) {
					return i
				}
			}
			return -1
		}
		if a, b := idx("hello: running install"), idx("hello: running start"); a < 0 || b < a {
			t.Errorf("install line at %d, start line at %d:\n%s", a, b, strings.Join(lines, "\n"))
		}
	})

	t.Run("limit", func(t *testing.T) {
		r := e.mustTroupe(commandTimeout, "debug-log", "--limit", "3")
		if lines := outputLines(r.stdout); len(lines) != 3 {
			t.Fatalf("debug-log --limit 3 printed %d lines:\n%s", len(lines), r.stdout)
		}
		r = e.mustTroupe(commandTimeout, "debug-log", "--replay", "--limit", "2", "--include", "hello/1")
		lines := outputLines(r.stdout)
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "unit-hello-1: ") {
			t.Fatalf("debug-log --replay --limit 2 --include hello/1:\n%s", r.stdout)
		}
	})

	t.Run("level", func(t *testing.T) {
		e.mustTroupe(commandTimeout, "exec", "--unit", "hello/0", "--", `juju-log -l WARNING "hello: careful"`)
		lines := pollDebugLog(t, e, []string{"unit-hello-0: ", "WARNING unit.hello/0.juju-log hello: careful"},
			"--replay", "--no-tail", "--level", "WARNING")
		for _, l := range lines {
			m := logLine.FindStringSubmatch(l)
			if m == nil || m[2] == "INFO" || m[2] == "DEBUG" || m[2] == "TRACE" {
				t.Errorf("--level WARNING shows %q", l)
			}
		}
		r := e.troupe(commandTimeout, "debug-log", "--level", "LOUD", "--no-tail")
		if r.code == 0 || !strings.Contains(r.stderr, "ERROR unknown log level") {
			t.Errorf("bad level: %s", r)
		}
	})

	t.Run("tail", func(t *testing.T) {
		// Default flags: the last 10 lines, then follow.
		cmd := exec.Command(filepath.Join(e.bin, "troupe"), "debug-log", "--include", "unit-hello-0")
		cmd.Dir, cmd.Env = e.root, e.environ()
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 100)
		go func() { // ends when the process's stdout closes, before Wait below returns
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		var got []string
		limit := time.After(readyTimeout)
		next := func(what string) string {
			t.Helper()
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("tailing debug-log ended while waiting for %s; got:\n%s", what, strings.Join(got, "\n"))
				}
				got = append(got, l)
				if !strings.HasPrefix(l, "unit-hello-0: ") {
					t.Errorf("tail shows another entity's line: %q", l)
				}
				return l
			case <-limit:
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("tailing debug-log never showed %s; got:\n%s", what, strings.Join(got, "\n"))
			}
			return ""
		}
		// The first backlog line proves the stream is open; the
		// config-changed lines logged after it can only arrive by tailing.
		next("a backlog line")
		backlog := len(got)
		e.mustTroupe(commandTimeout, "config", "hello", "greeting=x")
		for _, w := range []string{"hello: running config-changed", "hook committed hook=config-changed"} {
			for !strings.Contains(next(strconv.Quote(w)), w) {
			}
		}
		if len(got) <= backlog+1 {
			t.Errorf("no line arrived by tailing: %v", got)
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		for range lines {
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("interrupted debug-log: %v, want exit 0", err)
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(cmd.Process.Pid)); err == nil {
			t.Errorf("debug-log process %d still exists", cmd.Process.Pid)
		}
	})

	t.Run("destroy-controller", func(t *testing.T) {
		e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
		if left := waitNoProcesses(e.home, 10*time.Second); len(left) > 0 {
			t.Errorf("processes still running 10s after destroy-controller:\n%s", strings.Join(left, "\n"))
		}
	})
}
