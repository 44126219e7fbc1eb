package pebble

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/canonical/pebble/client"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

// pebbleBinary builds the pinned pebble once per test binary run.
var pebbleBin string

func TestMain(m *testing.M) {
	code := m.Run()
	if pebbleBin != "" {
		os.RemoveAll(filepath.Dir(pebbleBin))
	}
	os.Exit(code)
}

func buildPebble(t testing.TB) string {
	t.Helper()
	if pebbleBin != "" {
		return pebbleBin
	}
	dir, err := os.MkdirTemp("", "troupe-pebble-bin-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pebble")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/canonical/pebble/cmd/pebble")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cannot build pebble from the pinned tool module: %v\n%s", err, out)
	}
	pebbleBin = bin
	return bin
}

func waitEvents(t *testing.T, q *Queue, n int) []hook.Info {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs := q.Events()
		if len(evs) >= n {
			out := make([]hook.Info, len(evs))
			for i, ev := range evs {
				out[i] = ev.Hook
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d events, have %+v", n, evs)
		}
		select {
		case <-q.Changes():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestRunRealPebble drives the worker against the real pebble binary: a
// charm declaring one container gets a daemon (pebble-ready queued), a
// custom notice is queued with its id, type and key, a worker restart
// adopts the running daemon without a second pebble-ready, and stopping
// the worker stops the daemon.
func TestRunRealPebble(t *testing.T) {
	bin := buildPebble(t)
	before := runtime.NumGoroutine()
	unit := filepath.Join(t.TempDir(), "u")
	charmDir := filepath.Join(unit, "charm")
	if err := os.MkdirAll(charmDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(charmDir, "metadata.yaml"), []byte("name: t\nsummary: s\ndescription: d\ncontainers:\n  web: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := OpenQueue(filepath.Join(t.TempDir(), "q.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{UnitDir: unit, CharmDir: charmDir, Pebble: bin, Queue: q, PollInterval: 50 * time.Millisecond, StopTimeout: 5 * time.Second}
	start := func() (context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Run(ctx, cfg) }()
		return cancel, done
	}
	cancel, done := start()
	evs := waitEvents(t, q, 1)
	if evs[0] != (hook.Info{Kind: hook.PebbleReady, WorkloadName: "web"}) {
		t.Fatalf("first event %+v, want web-pebble-ready", evs[0])
	}
	sock := filepath.Join(ContainersDir(unit), "web", SocketName)
	cl, err := client.New(&client.Config{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	id, err := cl.Notify(&client.NotifyOptions{Type: client.CustomNotice, Key: "example.com/x"})
	if err != nil {
		t.Fatal(err)
	}
	evs = waitEvents(t, q, 2)
	want := hook.Info{Kind: hook.PebbleCustomNotice, WorkloadName: "web", NoticeID: id, NoticeType: "custom", NoticeKey: "example.com/x"}
	if evs[1] != want {
		t.Fatalf("second event %+v, want %+v", evs[1], want)
	}
	data, err := os.ReadFile(filepath.Join(unit, "pebble", "web", "daemon.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))

	// Stopping the worker stops its daemon. (Adoption of a daemon left
	// by a SIGKILLed agent is TestPebbleSurvivesAgentKill in tests/.)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatalf("pebble (pid %d) still runs after the worker stopped", pid)
	}

	// A fresh daemon boot gets a new pebble-ready; the notice cursor
	// persists, so the old notice is not queued again.
	if err := q.Ack(2); err != nil {
		t.Fatal(err)
	}
	cancel, done = start()
	evs = waitEvents(t, q, 1)
	if len(evs) != 1 || evs[0].Kind != hook.PebbleReady {
		t.Fatalf("after a daemon restart: events %+v, want one pebble-ready", evs)
	}
	time.Sleep(300 * time.Millisecond)
	if evs := q.Events(); len(evs) != 1 {
		t.Fatalf("after a daemon restart: events %+v; the old notice came back", evs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cl.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines leaked: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkPebbleStartToReady measures `pebble run` until its socket
// answers SysInfo, against the floor of a fork+exec of /bin/true in the
// same run.
func BenchmarkPebbleStartToReady(b *testing.B) {
	bin := buildPebble(b)
	var floor, ready time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
		floor += time.Since(t0)
		dir := b.TempDir()
		sock := filepath.Join(dir, "s")
		cmd := exec.Command(bin, "run", "--create-dirs")
		cmd.Env = []string{"PEBBLE=" + filepath.Join(dir, "p"), "PEBBLE_SOCKET=" + sock}
		t0 = time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		cl, _ := client.New(&client.Config{Socket: sock})
		for {
			if _, err := cl.SysInfo(); err == nil {
				break
			}
			if time.Since(t0) > 30*time.Second {
				b.Fatal("pebble did not answer in 30s")
			}
			time.Sleep(2 * time.Millisecond)
		}
		ready += time.Since(t0)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	b.ReportMetric(float64(ready.Microseconds())/float64(b.N), "ready-µs/op")
	b.ReportMetric(float64(floor.Microseconds())/float64(b.N), "true-µs/op")
	b.ReportMetric(float64(ready)/float64(floor), "ready/true")
}
