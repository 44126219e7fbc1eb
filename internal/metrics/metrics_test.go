package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/metrics"
)

func TestRegistryRecordsNamesAndRefusesForeignOnes(t *testing.T) {
	r := metrics.NewRegistry()
	r.Counter("troupe_b_total", "b")
	r.HistogramVec("troupe_a_seconds", "a", metrics.LatencyBuckets, "op")
	if got, want := r.Names(), []string{"troupe_a_seconds", "troupe_b_total"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("a family without the troupe_ prefix was accepted")
		}
	}()
	r.Counter("other_total", "x")
}

// TestServe: the endpoint records its bound address, serves the families
// with HELP text, and removes the address file when it stops.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	r := metrics.NewRegistry()
	r.Counter("troupe_things_total", "Things done.").Add(3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- metrics.Serve(ctx, metrics.ServeConfig{Dir: dir, Registry: r}) }()
	var addr string
	for addr == "" {
		select {
		case err := <-done:
			t.Fatalf("Serve ended early: %v", err)
		default:
		}
		a, err := metrics.ReadAddr(dir)
		if err == nil {
			addr = a
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Errorf("recorded address %q, want a bound loopback port", addr)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"# HELP troupe_things_total Things done.", "troupe_things_total 3", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, metrics.AddrFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("address file left behind: %v", err)
	}
}

func TestServeReportsABadAddress(t *testing.T) {
	err := metrics.Serve(context.Background(), metrics.ServeConfig{Addr: "256.0.0.1:1", Registry: metrics.NewRegistry()})
	if err == nil || !strings.Contains(err.Error(), "metrics address") {
		t.Fatalf("bad address: got %v, want an error saying to choose another metrics address", err)
	}
}

// TestServeProfilesOnlyWhenAsked: /debug/pprof/heap answers with a heap
// profile when Profiles is on, and is not found when it is off.
func TestServeProfilesOnlyWhenAsked(t *testing.T) {
	for _, on := range []bool{false, true} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- metrics.Serve(ctx, metrics.ServeConfig{Dir: dir, Registry: metrics.NewRegistry(), Profiles: on})
		}()
		deadline := time.Now().Add(time.Minute)
		addr, err := metrics.ReadAddr(dir)
		for err != nil && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			addr, err = metrics.ReadAddr(dir)
		}
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if on && (resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile")) {
			t.Errorf("profiles on: GET /debug/pprof/heap = %d %.200s, want a heap profile", resp.StatusCode, body)
		}
		if !on && resp.StatusCode != http.StatusNotFound {
			t.Errorf("profiles off: GET /debug/pprof/heap = %d, want 404", resp.StatusCode)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
