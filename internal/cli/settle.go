package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"gopkg.in/yaml.v3"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/fullstatus"
)

// progress is how far the units of some applications are from settled:
// every unit's agent idle (a hook error counts as settled-in-error).
type progress struct {
	Settled, Total int
	Running        []string // "app/0: running install hook"
	Errors         []string // "app/1: hook failed: \"install\""
}

// Done reports whether every unit settled.
func (p progress) Done() bool { return p.Total == p.Settled }

// String is the one-line progress display.
func (p progress) String() string {
	s := fmt.Sprintf("units settled %d/%d", p.Settled, p.Total)
	if len(p.Running) > 0 {
		s += "; " + strings.Join(p.Running, ", ")
	}
	if len(p.Errors) > 0 {
		s += "; in error: " + strings.Join(p.Errors, ", ")
	}
	return s
}

// measure is the pure core of --wait: the progress of apps' units (all
// applications when apps is empty) in a status document. An application
// that is missing, or has no unit yet while want says it should, is not
// settled.
func measure(doc *fullstatus.Status, apps []string, wantUnits map[string]int) progress {
	var p progress
	if len(apps) == 0 {
		for a := range doc.Applications {
			apps = append(apps, a)
		}
	}
	slices.Sort(apps)
	for _, name := range apps {
		app, ok := doc.Applications[name]
		want := wantUnits[name]
		if !ok {
			p.Total += max(want, 1)
			p.Running = append(p.Running, name+": not deployed yet")
			continue
		}
		units := app.Units
		if len(units) < want {
			p.Total += want - len(units)
			p.Running = append(p.Running, fmt.Sprintf("%s: %d of %d units", name, len(units), want))
		}
		for _, u := range slices.Sorted(maps.Keys(units)) {
			st := units[u]
			p.Total++
			agent, workload := "", ""
			if st.JujuStatus != nil {
				agent = st.JujuStatus.Current
			}
			if st.WorkloadStatus != nil {
				workload = st.WorkloadStatus.Current
			}
			switch {
			case workload == "error":
				p.Settled++
				p.Errors = append(p.Errors, u+": "+st.WorkloadStatus.Message)
			case agent == "idle":
				p.Settled++
			default:
				what := agent
				if st.JujuStatus != nil && st.JujuStatus.Message != "" {
					what = st.JujuStatus.Message
				}
				if what == "" {
					what = "waiting for its agent"
				}
				p.Running = append(p.Running, u+": "+what)
			}
		}
	}
	return p
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}

// waitSettled is `--wait D`: it polls status until every unit of apps has
// settled, showing progress (a rewritten line on a terminal, a plain line
// per change otherwise, on stderr), and fails when D passes or when a unit
// is in error.
func waitSettled(env *Env, conn *api.Conn, model string, apps []string, wantUnits map[string]int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	tty := isTerminal(env.Stderr)
	last := ""
	// Settled must be seen on two polls a second apart: a unit may not
	// have noticed the change yet when the command returns.
	var settledSince time.Time
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := conn.Status(ctx, &apipb.StatusRequest{Model: model})
		cancel()
		if err != nil {
			return apiError(err)
		}
		p := measure(buildStatus(res), apps, wantUnits)
		line := p.String()
		switch {
		case tty:
			fmt.Fprintf(env.Stderr, "\r\033[K%s", line)
		case line != last:
			fmt.Fprintln(env.Stderr, line)
		}
		last = line
		if !p.Done() {
			settledSince = time.Time{}
		} else if settledSince.IsZero() {
			settledSince = time.Now()
		}
		if p.Done() && time.Since(settledSince) >= time.Second {
			if tty {
				fmt.Fprintln(env.Stderr)
			}
			if len(p.Errors) > 0 {
				return fmt.Errorf("%d unit(s) in error: %s; see `troupe status` and `troupe resolve`", len(p.Errors), strings.Join(p.Errors, ", "))
			}
			return nil
		}
		if time.Now().After(deadline) {
			if tty {
				fmt.Fprintln(env.Stderr)
			}
			return fmt.Errorf("timed out after %s waiting for units to settle (%s)", limit, line)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// watchStatus is `status --watch D`: it prints status every D until
// interrupted (SIGINT or SIGTERM exit 0), clearing the screen between
// frames on a terminal.
func watchStatus(env *Env, every time.Duration, frame func() error) error {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(stop)
	tty := isTerminal(env.Stdout)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if tty {
			fmt.Fprint(env.Stdout, "\033[H\033[2J")
		}
		if err := frame(); err != nil {
			return err
		}
		if !tty {
			fmt.Fprintln(env.Stdout)
		}
		select {
		case <-stop:
			return nil
		case <-t.C:
		}
	}
}

// configFile reads `config --file`: a YAML mapping either keyed by the
// application name (Juju's shape) or of options directly. Values become
// the strings `config k=v` would take (booleans lowercase).
func configFile(path, app string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config file: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config file %s is not a YAML mapping: %v", path, err)
	}
	if inner, ok := doc[app].(map[string]any); ok && len(doc) == 1 {
		doc = inner
	}
	out := map[string]string{}
	for k, v := range doc {
		switch v := v.(type) {
		case map[string]any, []any:
			return nil, fmt.Errorf("config file %s: option %q has a nested value; give {%s: {option: value}} or {option: value}", path, k, app)
		case nil:
			out[k] = ""
		case bool:
			out[k] = strconv.FormatBool(v)
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}
