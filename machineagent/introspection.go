package machineagent

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"

	"github.com/juju/worker/v4/dependency"

	"github.com/troupe-dev/troupe/internal/machinelock"
	"github.com/troupe-dev/troupe/internal/sockpath"
)

// IntrospectionSocket is the name of the machine agent's introspection
// socket in its data dir (see internal/sockpath for long paths). It serves
// GET /engine-report: the machine engine's report, each unit agent's and
// the machine lock's holder and waiters.
const IntrospectionSocket = "introspection.socket"

// Reports collects engine reports of the machine agent and its units.
// Safe for concurrent use.
type Reports struct {
	Machine func() map[string]any // the machine engine's Report

	mu    sync.Mutex
	units map[string]*dependency.Engine
	lock  *machinelock.Lock
}

func (r *Reports) setLock(l *machinelock.Lock) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lock = l
}

func (r *Reports) setUnit(name string, e *dependency.Engine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.units == nil {
		r.units = map[string]*dependency.Engine{}
	}
	r.units[name] = e
}

// removeUnit forgets the engine of a unit whose agent was stopped.
func (r *Reports) removeUnit(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.units, name)
}

// Snapshot returns {"machine": report, "units": {unit: report},
// "machine-lock": {holder, waiting}}.
func (r *Reports) Snapshot() map[string]any {
	out := map[string]any{}
	if r.Machine != nil {
		out["machine"] = r.Machine()
	}
	units := map[string]any{}
	r.mu.Lock()
	for name, e := range r.units {
		units[name] = e.Report()
	}
	lock := r.lock
	r.mu.Unlock()
	out["units"] = units
	if lock != nil {
		out["machine-lock"] = lock.Report()
	}
	return out
}

// ServeIntrospection serves reports on the agent's introspection socket
// until ctx is done.
func ServeIntrospection(ctx context.Context, dataDir string, reports *Reports, log *slog.Logger) error {
	path := sockpath.For(dataDir, IntrospectionSocket)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	os.Chmod(path, 0o600)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /engine-report", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(reports.Snapshot()); err != nil {
			log.Warn("cannot write engine report", "err", err)
		}
	})
	srv := &http.Server{Handler: mux}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case <-ctx.Done():
		srv.Close()
		<-errc
		os.Remove(path)
		return nil
	case err := <-errc:
		return err
	}
}
