package logsender_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/workers/logsender"
)

func msg(i int) *apipb.LogRecord {
	return &apipb.LogRecord{Level: "INFO", Message: fmt.Sprintf("m%d", i)}
}

func messages(rs []*apipb.LogRecord) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Message)
	}
	return strings.Join(out, ",")
}

func TestBufferDropsOldestAndAcks(t *testing.T) {
	b := logsender.NewBuffer(3)
	for i := 1; i <= 5; i++ {
		b.Append(msg(i))
	}
	batch := b.Take(10)
	if got := messages(batch.Records); got != "m3,m4,m5" || batch.Dropped != 2 {
		t.Fatalf("take = %s dropped %d, want m3,m4,m5 dropped 2", got, batch.Dropped)
	}
	// Two more arrive while the batch is in flight, pushing out m3 and m4,
	// which the batch delivers anyway: they are not counted as dropped.
	b.Append(msg(6))
	b.Append(msg(7))
	b.Ack(batch)
	next := b.Take(10)
	if got := messages(next.Records); got != "m6,m7" || next.Dropped != 0 {
		t.Fatalf("after ack = %s dropped %d, want m6,m7 dropped 0", got, next.Dropped)
	}
	b.Append(msg(8))
	b.Append(msg(9)) // pushes out m6, in flight and so delivered
	b.Ack(next)      // m7 (and m6, delivered) acknowledged
	last := b.Take(10)
	if got := messages(last.Records); got != "m8,m9" || last.Dropped != 0 {
		t.Fatalf("after second ack = %s dropped %d, want m8,m9 dropped 0", got, last.Dropped)
	}
	b.Ack(last)
	if n, total := b.Stats(); n != 0 || total != 2 {
		t.Fatalf("stats = %d buffered, %d dropped; want 0, 2", n, total)
	}
	if empty := b.Take(10); len(empty.Records) != 0 || empty.Dropped != 0 {
		t.Fatalf("empty take = %+v", empty)
	}
}

func TestHandlerTees(t *testing.T) {
	var out bytes.Buffer
	inner := slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})
	buf := logsender.NewBuffer(10)
	log := slog.New(logsender.NewHandler(inner, buf, "juju.worker.uniter", "unit")).With("unit", "a/0")
	log.Info("running operation", "op", "run install hook")
	log.Debug("hidden from agent.log")
	log.Log(context.Background(), logsender.LevelCritical, "hello: bad", "module", "unit.a/0.juju-log", "source", "juju-log")
	log.WithGroup("g").Warn("grouped", "k", "v")
	// A machine agent keeps "unit": its lines are about several units.
	slog.New(logsender.NewHandler(inner, buf, "juju.worker.deployer")).Info("unit agent started", "unit", "a/0", "source", "x")

	got := buf.Take(10).Records
	want := []struct{ level, module, message string }{
		{"INFO", "juju.worker.uniter", `running operation op="run install hook"`},
		{"DEBUG", "juju.worker.uniter", "hidden from agent.log"},
		{"CRITICAL", "unit.a/0.juju-log", "hello: bad"},
		{"WARNING", "juju.worker.uniter", "grouped g.k=v"},
		{"INFO", "juju.worker.deployer", "unit agent started unit=a/0"},
	}
	if len(got) != len(want) {
		t.Fatalf("buffered %d records, want %d: %v", len(got), len(want), messages(got))
	}
	for i, w := range want {
		if got[i].Level != w.level || got[i].Module != w.module || got[i].Message != w.message || got[i].TimeUnixNano == 0 {
			t.Errorf("record %d = %s %s %q, want %s %s %q", i, got[i].Level, got[i].Module, got[i].Message, w.level, w.module, w.message)
		}
	}
	text := out.String()
	if !strings.Contains(text, "running operation") || !strings.Contains(text, "unit=a/0") || strings.Contains(text, "hidden") {
		t.Fatalf("agent.log side:\n%s", text)
	}
}

func TestLevels(t *testing.T) {
	for _, name := range []string{"TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"} {
		l, ok := logsender.ParseLevel(strings.ToLower(name))
		if !ok || logsender.LevelName(l) != name {
			t.Errorf("%s → %v → %s", name, l, logsender.LevelName(l))
		}
	}
	if l, ok := logsender.ParseLevel("LOUD"); ok || l != slog.LevelInfo {
		t.Errorf("unknown level → %v, %v", l, ok)
	}
}

// fakeAPI records each call; failing makes calls fail.
type fakeAPI struct {
	mu      sync.Mutex
	calls   []*apipb.SendLogsRequest
	failing bool
	called  chan struct{}
}

func (f *fakeAPI) SendLogs(ctx context.Context, req *apipb.SendLogsRequest, _ ...grpc.CallOption) (*apipb.SendLogsResult, error) {
	f.mu.Lock()
	defer func() {
		f.mu.Unlock()
		f.called <- struct{}{}
	}()
	if f.failing {
		return nil, errors.New("controller unreachable")
	}
	f.calls = append(f.calls, req)
	return &apipb.SendLogsResult{}, nil
}

// waitTimeout only bounds a wait that would otherwise hang a broken test.
const waitTimeout = 30 * time.Second

func TestRunBatchesBuffersAndCountsDrops(t *testing.T) {
	before := runtime.NumGoroutine()
	buf := logsender.NewBuffer(250)
	api := &fakeAPI{called: make(chan struct{}, 100), failing: true}
	for i := 1; i <= 300; i++ { // 50 more than fit
		buf.Append(msg(i))
	}
	// Unreachable controller: Run fails and the records stay buffered.
	err := logsender.Run(context.Background(), logsender.Config{API: api, Buffer: buf, BatchSize: 100})
	if err == nil || !strings.Contains(err.Error(), "controller unreachable") {
		t.Fatalf("Run with a failing API = %v", err)
	}
	<-api.called
	if n, dropped := buf.Stats(); n != 250 || dropped != 50 {
		t.Fatalf("after failure: %d buffered, %d dropped; want 250, 50", n, dropped)
	}

	// The restarted worker sends them in batches, with the drop count.
	api.mu.Lock()
	api.failing = false
	api.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- logsender.Run(ctx, logsender.Config{API: api, Buffer: buf, BatchSize: 100}) }()
	wait := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			select {
			case <-api.called:
			case <-time.After(waitTimeout):
				t.Fatalf("only %d of %d calls", i, n)
			}
		}
	}
	wait(3)
	buf.Append(msg(301)) // a record logged later is sent at once
	wait(1)
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run after cancel = %v", err)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	var sizes []int
	for _, c := range api.calls {
		sizes = append(sizes, len(c.Records))
	}
	if fmt.Sprint(sizes) != "[100 100 50 1]" {
		t.Fatalf("batch sizes = %v, want [100 100 50 1]", sizes)
	}
	if api.calls[0].Dropped != 50 || api.calls[1].Dropped != 0 {
		t.Fatalf("dropped reported = %d then %d, want 50 then 0", api.calls[0].Dropped, api.calls[1].Dropped)
	}
	if first, last := api.calls[0].Records[0].Message, api.calls[3].Records[0].Message; first != "m51" || last != "m301" {
		t.Fatalf("first sent %s, last %s; want m51, m301", first, last)
	}
	for deadline := time.Now().Add(waitTimeout); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left, %d before", runtime.NumGoroutine(), before)
		}
	}
}

func TestAppendNeverBlocks(t *testing.T) {
	// No reader at all: appends return and the buffer stays bounded.
	buf := logsender.NewBuffer(10)
	log := slog.New(logsender.NewHandler(slog.NewTextHandler(&bytes.Buffer{}, nil), buf, "m"))
	for i := 0; i < 10000; i++ {
		log.Info("x")
	}
	if n, dropped := buf.Stats(); n != 10 || dropped != 9990 {
		t.Fatalf("%d buffered, %d dropped; want 10, 9990", n, dropped)
	}
}

// TestSpooledRecordsSkipTheBuffer: a line logged with a Spooled context
// (the unit outbox carries it) reaches agent.log only, so it is not sent
// twice.
func TestSpooledRecordsSkipTheBuffer(t *testing.T) {
	var out bytes.Buffer
	buf := logsender.NewBuffer(10)
	log := slog.New(logsender.NewHandler(slog.NewTextHandler(&out, nil), buf, "juju.worker.uniter"))
	log.Log(logsender.Spooled(context.Background()), slog.LevelInfo, "queued in the outbox")
	log.Info("buffered")
	if got := messages(buf.Take(10).Records); got != "buffered" {
		t.Errorf("buffered %v, want only the unspooled line", got)
	}
	if !strings.Contains(out.String(), "queued in the outbox") {
		t.Errorf("the spooled line is missing from agent.log:\n%s", out.String())
	}
}
