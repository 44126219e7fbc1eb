// Package metrics is the shared plumbing of Troupe's Prometheus metrics:
// a Registry that remembers the name of every family registered in it (so
// the Grafana dashboard can be checked against the code), and Serve, the
// HTTP endpoint that exposes a registry on /metrics and records its bound
// address in a file next to the daemon's data.
//
// The families themselves live with their owners: controller/ctlmetrics
// (API, actors, store, entities) and internal/agentmetrics (hooks, machine
// lock, outbox, engines). Every family name starts with Namespace.
//
// Who imports it: controller/ctlmetrics, internal/agentmetrics and the
// manifolds that serve them.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/troupe-dev/troupe/internal/atomicfile"
)

// Namespace prefixes every Troupe family name.
const Namespace = "troupe_"

// AddrFile is the file, in a daemon's data directory, holding the address
// its metrics endpoint listens on (host:port, one line).
const AddrFile = "metrics.addr"

// DefaultAddress is where an endpoint listens when none is configured: a
// free loopback port.
const DefaultAddress = "127.0.0.1:0"

// Registry is a Prometheus registry that records the names of the
// families registered through it. It also carries the Go runtime and
// process collectors (go_*, process_*), which it does not list.
type Registry struct {
	reg *prometheus.Registry

	mu    sync.Mutex
	names []string
}

// NewRegistry returns a registry holding the Go and process collectors.
func NewRegistry() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Gatherer is the registry, for handlers and tests.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Names returns the sorted names of the families registered through r.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.names...)
	sort.Strings(out)
	return out
}

// Register registers c, whose families are names. A name without
// Namespace, or a collector that clashes with one already registered, is
// a programming error and panics.
func (r *Registry) Register(c prometheus.Collector, names ...string) {
	for _, n := range names {
		if !strings.HasPrefix(n, Namespace) {
			panic(fmt.Sprintf("metrics: family %q lacks the %q prefix", n, Namespace))
		}
	}
	r.reg.MustRegister(c)
	r.mu.Lock()
	r.names = append(r.names, names...)
	r.mu.Unlock()
}

// Counter registers a counter without labels.
func (r *Registry) Counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	r.Register(c, name)
	return c
}

// CounterVec registers a labelled counter.
func (r *Registry) CounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	r.Register(c, name)
	return c
}

// GaugeVec registers a labelled gauge.
func (r *Registry) GaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	r.Register(g, name)
	return g
}

// Histogram registers a histogram without labels.
func (r *Registry) Histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	r.Register(h, name)
	return h
}

// HistogramVec registers a labelled histogram.
func (r *Registry) HistogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	r.Register(h, name)
	return h
}

// LatencyBuckets suit API and store calls: 0.5 ms to about 16 s.
var LatencyBuckets = prometheus.ExponentialBuckets(0.0005, 2, 16)

// LongBuckets suit hooks and lock waits: 10 ms to about 20 min.
var LongBuckets = prometheus.ExponentialBuckets(0.01, 2.5, 14)

// Handler serves r in the Prometheus text format. A collector that fails
// does not fail the scrape; the other families are still served.
func Handler(r *Registry) http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ServeConfig configures Serve.
type ServeConfig struct {
	// Addr is the listen address; empty means DefaultAddress.
	Addr string
	// Dir receives AddrFile with the bound address; empty means none.
	Dir      string
	Registry *Registry
	Logger   *slog.Logger
	// Profiles also serves Go's runtime profiles under /debug/pprof/
	// (heap, goroutine, profile, …): off unless asked for, since the
	// endpoint may listen beyond loopback. See ProfilesEnv.
	Profiles bool
}

// ProfilesEnv is the environment variable that, set non-empty in a
// daemon's environment, turns ServeConfig.Profiles on (`make bench
// BENCH_PROFILE=1` sets it to take the controller's heap profile).
const ProfilesEnv = "TROUPE_PPROF"

// ProfilesFromEnv reports whether ProfilesEnv asks for profiles.
func ProfilesFromEnv() bool { return os.Getenv(ProfilesEnv) != "" }

// Serve listens on cfg.Addr, writes the bound address to cfg.Dir/AddrFile
// and serves GET /metrics until ctx is done. It removes the file on the
// way out.
func Serve(ctx context.Context, cfg ServeConfig) error {
	addr := cfg.Addr
	if addr == "" {
		addr = DefaultAddress
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen for metrics on %s: %w (choose another metrics address)", addr, err)
	}
	bound := l.Addr().String()
	var file string
	if cfg.Dir != "" {
		file = filepath.Join(cfg.Dir, AddrFile)
		if err := atomicfile.Write(file, []byte(bound+"\n"), 0o644); err != nil {
			l.Close()
			return fmt.Errorf("cannot record metrics address: %w", err)
		}
		defer os.Remove(file)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", Handler(cfg.Registry))
	if cfg.Profiles {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if cfg.Logger != nil {
		cfg.Logger.Info("metrics endpoint listening", "addr", "http://"+bound+"/metrics")
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
		<-errc
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("metrics endpoint stopped: %w", err)
	}
}

// ReadAddr returns the address recorded in dir/AddrFile.
func ReadAddr(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, AddrFile))
	if err != nil {
		return "", fmt.Errorf("no metrics address recorded in %s: %w (is the daemon running?)", dir, err)
	}
	return strings.TrimSpace(string(data)), nil
}
