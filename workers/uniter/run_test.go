package uniter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/clocktest"
	"github.com/troupe-dev/troupe/internal/machinelock"
)

// These tests drive the real uniter Run loop: real hook processes, the
// real operation state on disk and the real machine lock, with a
// hand-written fake of the controller API at the edge and a manual clock
// for the update-status and hook-retry timers.

// fakeAPI is the controller as one unit agent sees it. Unimplemented
// calls panic through the nil embedded interface.
type fakeAPI struct {
	apipb.ControllerClient
	archive []byte

	mu   sync.Mutex
	snap *apipb.UnitSnapshotResult // guarded by mu; copied on read
	seq  int                       // number of updates; guarded by mu

	events chan string // "status:<agent status>", "clear-resolved"
	// statusDown makes agent status calls fail as an unreachable
	// controller does; guarded by mu.
	statusDown bool
	reads      chan int      // the update seq each snapshot read saw
	changes    chan struct{} // one value per watch event
}

// update changes the snapshot, notifies the watch and returns the
// update's seq.
func (f *fakeAPI) update(change func(*apipb.UnitSnapshotResult)) int {
	f.mu.Lock()
	change(f.snap)
	f.seq++
	seq := f.seq
	f.mu.Unlock()
	f.changes <- struct{}{}
	return seq
}

func (f *fakeAPI) UnitSnapshot(ctx context.Context, _ *apipb.UnitSnapshotRequest, _ ...grpc.CallOption) (*apipb.UnitSnapshotResult, error) {
	f.mu.Lock()
	s := proto.Clone(f.snap).(*apipb.UnitSnapshotResult)
	seq := f.seq
	f.mu.Unlock()
	f.reads <- seq
	return s, nil
}

func (f *fakeAPI) WatchUnit(ctx context.Context, _ *apipb.WatchUnitRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[apipb.Changed], error) {
	return &fakeStream{ctx: ctx, changes: f.changes}, nil
}

func (f *fakeAPI) GetCharm(ctx context.Context, req *apipb.GetCharmRequest, _ ...grpc.CallOption) (*apipb.GetCharmResult, error) {
	return &apipb.GetCharmResult{CharmUrl: req.CharmUrl, Archive: f.archive}, nil
}

func (f *fakeAPI) SetUnitStatus(ctx context.Context, req *apipb.SetUnitStatusRequest, _ ...grpc.CallOption) (*apipb.SetUnitStatusResult, error) {
	if req.Agent != nil {
		f.mu.Lock()
		down := f.statusDown
		f.mu.Unlock()
		if down {
			f.events <- "status-unreachable:" + req.Agent.Current
			return nil, status.Error(codes.Unavailable, "connection refused")
		}
		f.events <- "status:" + req.Agent.Current
	}
	return &apipb.SetUnitStatusResult{}, nil
}

func (f *fakeAPI) ClearResolved(ctx context.Context, _ *apipb.ClearResolvedRequest, _ ...grpc.CallOption) (*apipb.ClearResolvedResult, error) {
	f.mu.Lock()
	f.snap.Resolved = ""
	f.mu.Unlock()
	f.events <- "clear-resolved"
	return &apipb.ClearResolvedResult{}, nil
}

type fakeStream struct {
	grpc.ClientStream
	ctx     context.Context
	changes chan struct{}
}

func (s *fakeStream) Recv() (*apipb.Changed, error) {
	select {
	case <-s.ctx.Done():
		return nil, s.ctx.Err()
	case <-s.changes:
		return &apipb.Changed{}, nil
	}
}

type leader struct{}

func (leader) IsLeader() bool                         { return true }
func (leader) ClaimNow(context.Context) (bool, error) { return true, nil }
func (leader) Changes() <-chan struct{}               { return nil }

// hookScript records the hook in the unit's ledger; install fails while
// the unit dir holds "fail-install".
const hookScript = `#!/bin/sh
ledger="$CHARM_DIR/../ledger"
if [ "$JUJU_HOOK_NAME" = install ] && [ -f "$CHARM_DIR/../fail-install" ]; then
    echo install:failed >> "$ledger"
    exit 1
fi
echo "$JUJU_HOOK_NAME" >> "$ledger"
`

type harness struct {
	t     *testing.T
	api   *fakeAPI
	clock *clocktest.Clock
	dir   string
}

// updateInterval of the fixture: far above any retry delay (at most 5m),
// so the two timers are told apart by duration.
const testUpdateInterval = time.Hour

func start(t *testing.T, autoRetry bool) *harness {
	t.Helper()
	return startWith(t, autoRetry, nil)
}

// startWith is start with a Metrics receiver.
func startWith(t *testing.T, autoRetry bool, metrics Metrics) *harness {
	t.Helper()
	goroutines := runtime.NumGoroutine()
	charmDir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(charmDir, "metadata.yaml"), []byte("name: retrytest\nsummary: s\ndescription: d\n"), 0o644))
	must(t, os.Mkdir(filepath.Join(charmDir, "hooks"), 0o755))
	for _, h := range []string{"install", "leader-elected", "config-changed", "start", "update-status"} {
		must(t, os.WriteFile(filepath.Join(charmDir, "hooks", h), []byte(hookScript), 0o755))
	}
	var buf bytes.Buffer
	must(t, charm.Pack(charmDir, &buf))

	dir := t.TempDir()
	unitDir := filepath.Join(dir, "unit-retrytest-0")
	must(t, os.MkdirAll(unitDir, 0o755))
	must(t, os.WriteFile(filepath.Join(unitDir, "fail-install"), nil, 0o644))
	api := &fakeAPI{archive: buf.Bytes(), events: make(chan string, 1000), reads: make(chan int, 1000), changes: make(chan struct{}, 100),
		snap: &apipb.UnitSnapshotResult{Unit: "retrytest/0", Life: "alive", Application: "retrytest",
			CharmUrl: "local:retrytest-0", ConfigJson: []byte("{}"), ConfigHash: "h0", ModelName: "m", ModelUuid: "uuid",
			AutomaticallyRetryHooks: autoRetry, UpdateStatusIntervalMs: testUpdateInterval.Milliseconds()}}
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	hookTool, err := os.Executable()
	must(t, err)
	cfg := Config{API: api, Unit: "retrytest/0", MachineID: "0", UnitDir: unitDir, HookTool: hookTool,
		Lock:       &machinelock.Lock{Path: filepath.Join(dir, "machine-lock"), LogPath: filepath.Join(dir, "machine-lock.log")},
		Leadership: leader{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clk, Metrics: metrics}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("uniter stopped with %v", err)
		}
		checkNoLeak(t, goroutines)
	})
	return &harness{t: t, api: api, clock: clk, dir: unitDir}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkNoLeak waits for the goroutines the test started to end.
func checkNoLeak(t *testing.T, before int) {
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines after the uniter stopped, %d before:\n%s", runtime.NumGoroutine(), before, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitTimeout only bounds a wait that would otherwise hang a broken test;
// nothing is asserted about how long anything takes.
const waitTimeout = 30 * time.Second

// next consumes events until want arrives.
func (h *harness) next(want string) {
	h.t.Helper()
	limit := time.After(waitTimeout)
	for {
		select {
		case ev := <-h.api.events:
			if ev == want {
				return
			}
		case <-limit:
			h.t.Fatalf("no %q event; ledger %v", want, h.ledger())
		}
	}
}

func (h *harness) ledger() []string {
	data, err := os.ReadFile(filepath.Join(h.dir, "ledger"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(data))
}

// waitLedger polls the ledger until ok holds, then lets the uniter's loop
// come back to idle (settle) so the hook's operation is committed.
func (h *harness) waitLedger(what string, ok func([]string) bool) {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !ok(h.ledger()) {
		if time.Now().After(deadline) {
			h.t.Fatalf("waiting for %s: ledger %v", what, h.ledger())
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.settle()
}

func endsWith(hook string) func([]string) bool {
	return func(l []string) bool { return len(l) > 0 && l[len(l)-1] == hook }
}

func (h *harness) failures() int {
	n := 0
	for _, l := range h.ledger() {
		if l == "install:failed" {
			n++
		}
	}
	return n
}

// retryTimers are the armed timers below the update-status interval's
// lower bound: the hook-retry timer.
func retryTimers(ts []clocktest.Timer) []clocktest.Timer {
	var out []clocktest.Timer
	for _, t := range ts {
		if t.Requested < UpdateStatusJitter(testUpdateInterval, 0) {
			out = append(out, t)
		}
	}
	return out
}

func (h *harness) waitTimers(what string, ok func([]clocktest.Timer) bool) []clocktest.Timer {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ts, err := h.clock.WaitFor(ctx, ok)
	if err != nil {
		h.t.Fatalf("waiting for %s: %v; timers %v, ledger %v", what, err, ts, h.ledger())
	}
	return ts
}

// settle waits until the uniter's loop has twice read a snapshot newer
// than a fresh watch event: a read at the loop's top comes after the
// operation in progress, so after two rounds every loop iteration that
// started before the call (and the timer decisions it made) has finished.
func (h *harness) settle() {
	h.t.Helper()
	limit := time.After(waitTimeout)
	for range 2 {
		seq := h.api.update(func(*apipb.UnitSnapshotResult) {})
		for seen := 0; seen < seq; {
			select {
			case seen = <-h.api.reads:
			case <-limit:
				h.t.Fatalf("uniter did not read its snapshot; ledger %v", h.ledger())
			}
		}
	}
}

// TestHookRetryBackoffAndResolve is issue 4's failing-hook acceptance
// test at the uniter tier (contract §2.4, §8.4): a failed hook leaves the
// unit in error and is retried after 5s, 10s, 20s, ... 160s, then 5m, 5m
// (each jittered into [d/2, d)); `resolve` re-runs it at once and `resolve --no-retry` skips
// it so the unit carries on; the update-status timer follows the model's
// interval and is re-armed when it changes.
func TestHookRetryBackoffAndResolve(t *testing.T) {
	h := start(t, true)
	h.next("status:error")
	if got := h.failures(); got != 1 {
		t.Fatalf("after the first failure: %d failed installs, ledger %v", got, h.ledger())
	}

	var delays []time.Duration
	for attempt := 0; attempt < 8; attempt++ {
		ts := h.waitTimers(fmt.Sprintf("retry timer %d", attempt), func(ts []clocktest.Timer) bool { return len(retryTimers(ts)) == 1 })
		d := retryTimers(ts)[0].Requested
		full := min(RetryMin<<attempt, RetryMax) // 5s, 10s, ... 160s, then the 5m cap
		if d < full/2 || d >= full {
			t.Fatalf("retry %d armed for %s, want within [%s, %s)", attempt, d, full/2, full)
		}
		delays = append(delays, d)
		h.clock.Advance(d - time.Millisecond)
		if r := retryTimers(h.clock.Timers()); len(r) != 1 || r[0].Remaining != time.Millisecond {
			t.Fatalf("retry %d fired early: timers %v", attempt, h.clock.Timers())
		}
		h.clock.Advance(time.Millisecond)
		h.next("status:error")
		if got := h.failures(); got != attempt+2 {
			t.Fatalf("after retry %d: %d failed installs, want %d; ledger %v", attempt, got, attempt+2, h.ledger())
		}
	}
	t.Logf("retry delays: %v", delays)

	// resolve: the hook runs again at once, without the clock moving.
	h.api.update(func(s *apipb.UnitSnapshotResult) { s.Resolved = "retry-hooks" })
	h.next("clear-resolved")
	h.next("status:error")
	if got := h.failures(); got != 10 {
		t.Fatalf("after resolve: %d failed installs, want 10; ledger %v", got, h.ledger())
	}

	// resolve --no-retry: install is skipped and the unit carries on.
	h.api.update(func(s *apipb.UnitSnapshotResult) { s.Resolved = "no-hooks" })
	h.next("clear-resolved")
	h.waitLedger("start after --no-retry", endsWith("start"))
	got := strings.Join(h.ledger()[10:], ",")
	if want := "leader-elected,config-changed,start"; got != want {
		t.Errorf("hooks after --no-retry: %s, want %s (install skipped)", got, want)
	}
	if r := retryTimers(h.clock.Timers()); len(r) != 0 {
		t.Errorf("retry timer still armed after the error was resolved: %v", r)
	}

	// update-status follows the model's interval, re-armed on change.
	ts := h.clock.Timers()
	if len(ts) != 1 || ts[0].Requested < UpdateStatusJitter(testUpdateInterval, 0) || ts[0].Requested > UpdateStatusJitter(testUpdateInterval, 1) {
		t.Fatalf("update-status timer: %v, want one within 1h ±20%%", ts)
	}
	h.api.update(func(s *apipb.UnitSnapshotResult) { s.UpdateStatusIntervalMs = time.Minute.Milliseconds() })
	ts = h.waitTimers("update-status re-armed for 1m", func(ts []clocktest.Timer) bool {
		return len(ts) == 1 && ts[0].Requested <= UpdateStatusJitter(time.Minute, 1)
	})
	if d := ts[0].Requested; d < UpdateStatusJitter(time.Minute, 0) {
		t.Fatalf("update-status timer %s, want within 1m ±20%%", d)
	}
	h.clock.Advance(ts[0].Requested)
	h.waitLedger("update-status after its timer", endsWith("update-status"))
	h.waitTimers("update-status re-armed after it ran", func(ts []clocktest.Timer) bool {
		return len(ts) == 1 && ts[0].Requested >= UpdateStatusJitter(time.Minute, 0) && ts[0].Requested <= UpdateStatusJitter(time.Minute, 1)
	})
}

// TestNoAutomaticRetryWhenModelDisablesIt: with automatically-retry-hooks
// false the failed hook is not re-run however long the unit waits, until
// the model turns retries back on (or the user resolves).
func TestNoAutomaticRetryWhenModelDisablesIt(t *testing.T) {
	h := start(t, false)
	h.next("status:error")
	h.settle()
	if r := retryTimers(h.clock.Timers()); len(r) != 0 {
		t.Fatalf("retry timer armed with automatic retries off: %v", r)
	}
	h.clock.Advance(10 * time.Minute) // beyond any retry delay
	h.settle()
	if got := h.failures(); got != 1 {
		t.Fatalf("install re-ran %d times with automatic retries off; ledger %v", got-1, h.ledger())
	}

	h.api.update(func(s *apipb.UnitSnapshotResult) { s.AutomaticallyRetryHooks = true })
	ts := h.waitTimers("retry timer once retries are on", func(ts []clocktest.Timer) bool { return len(retryTimers(ts)) == 1 })
	d := retryTimers(ts)[0].Requested
	if d < RetryMin/2 || d >= RetryMin {
		t.Fatalf("first retry armed for %s, want within [2.5s, 5s)", d)
	}
	h.clock.Advance(d)
	h.next("status:error")
	if got := h.failures(); got != 2 {
		t.Fatalf("after enabling retries: %d failed installs, want 2; ledger %v", got, h.ledger())
	}

	// Turning retries off again stops the armed timer.
	h.waitTimers("retry timer re-armed", func(ts []clocktest.Timer) bool { return len(retryTimers(ts)) == 1 })
	h.api.update(func(s *apipb.UnitSnapshotResult) { s.AutomaticallyRetryHooks = false })
	h.waitTimers("retry timer stopped", func(ts []clocktest.Timer) bool { return len(retryTimers(ts)) == 0 })
}

// TestAgentStatusResentAfterCut: an agent status the controller could not
// be reached for is sent once it answers again, so a unit that went idle
// during a cut is not shown executing for ever (found by TestChaos).
func TestAgentStatusResentAfterCut(t *testing.T) {
	h := start(t, true)
	must(t, os.Remove(filepath.Join(h.dir, "fail-install")))
	h.api.mu.Lock()
	h.api.statusDown = true
	h.api.mu.Unlock()
	h.waitLedger("start hook", endsWith("start"))
	h.next("status-unreachable:idle")

	h.api.mu.Lock()
	h.api.statusDown = false
	h.api.mu.Unlock()
	// The loop waits for the controller on the offline retry timer.
	h.waitTimers("agent status retry timer", func(ts []clocktest.Timer) bool {
		for _, t := range ts {
			if t.Requested == offlineRetry {
				return true
			}
		}
		return false
	})
	h.clock.Advance(offlineRetry)
	h.next("status:idle")
}
