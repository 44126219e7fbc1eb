package pebble

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/canonical/pebble/client"

	"github.com/troupe-dev/troupe/internal/atomicfile"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

// SocketName is the socket's name in a container's directory, as ops
// expects it: /charm/containers/<name>/pebble.socket.
const SocketName = "pebble.socket"

// maxSocketPath keeps socket paths under the kernel's 108-byte limit.
const maxSocketPath = 100

// ContainersDir returns the host directory holding the unit's container
// directories (<dir>/<name>/pebble.socket); hooks see it bind-mounted on
// /charm/containers. It is <unitDir>/containers when its socket paths fit
// the kernel's limit, else a directory named after unitDir under the
// system temp dir.
func ContainersDir(unitDir string) string {
	d := filepath.Join(unitDir, "containers")
	// Container names are endpoint-like; leave room for a long one.
	if len(d)+len("/"+SocketName)+32 <= maxSocketPath {
		return d
	}
	sum := sha256.Sum256([]byte(unitDir))
	return filepath.Join(os.TempDir(), "troupe-c-"+hex.EncodeToString(sum[:8]))
}

// Config configures the pebble worker of one unit.
type Config struct {
	UnitDir  string // the unit's agent dir; Pebble dirs are <UnitDir>/pebble/<container>
	CharmDir string // the deployed charm, whose metadata.yaml declares the containers
	Pebble   string // the pebble binary
	Queue    *Queue // where events go
	Logger   *slog.Logger
	// PollInterval is how often the charm's metadata is re-read; zero
	// means a second.
	PollInterval time.Duration
	// StopTimeout bounds how long a daemon may take to stop its services
	// when the worker stops before it is killed; zero means 3 s, which
	// keeps a machine agent's stop inside the local provider's 5 s grace.
	StopTimeout time.Duration
}

// Run supervises one Pebble daemon per container the deployed charm
// declares, until ctx is done; it then stops them. See the package doc.
func Run(ctx context.Context, cfg Config) error {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 3 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Pebble == "" {
		return errors.New("no pebble binary configured")
	}
	type running struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	sups := map[string]running{}
	var wg sync.WaitGroup
	defer func() {
		for _, r := range sups {
			r.cancel()
		}
		wg.Wait()
	}()
	var lastMeta []byte
	var names []string
	tick := time.NewTicker(cfg.PollInterval)
	defer tick.Stop()
	for {
		data, err := os.ReadFile(filepath.Join(cfg.CharmDir, "metadata.yaml"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot read charm metadata: %w", err)
		}
		if !bytes.Equal(data, lastMeta) && data != nil {
			meta, err := charm.ParseMeta(data)
			if err != nil {
				cfg.Logger.Warn("cannot read the charm's containers", "err", err)
			} else {
				names = slices.Sorted(func(yield func(string) bool) {
					for n := range meta.Containers {
						if !yield(n) {
							return
						}
					}
				})
			}
			lastMeta = data
		}
		for name, r := range sups {
			if !slices.Contains(names, name) {
				r.cancel()
				<-r.done
				delete(sups, name)
			}
		}
		for _, name := range names {
			if _, ok := sups[name]; ok {
				continue
			}
			cctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			sups[name] = running{cancel, done}
			c := &container{cfg: cfg, name: name, log: cfg.Logger.With("container", name)}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(done)
				c.supervise(cctx)
			}()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// container supervises one Pebble daemon.
type container struct {
	cfg  Config
	name string
	log  *slog.Logger
}

func (c *container) pebbleDir() string { return filepath.Join(c.cfg.UnitDir, "pebble", c.name) }
func (c *container) socket() string {
	return filepath.Join(ContainersDir(c.cfg.UnitDir), c.name, SocketName)
}

// argv0 is the daemon's argv[0]: a symlink to the binary inside its
// Pebble dir, so its command line names the unit (and an adopted daemon
// is recognised by it).
func (c *container) argv0() string { return filepath.Join(c.pebbleDir(), "pebble") }
func (c *container) pidFile() string {
	return filepath.Join(c.pebbleDir(), "daemon.pid")
}

// daemon is a running Pebble process: one this worker started (cmd set)
// or one a previous incarnation of the agent left running (adopted).
type daemon struct {
	pid  int
	done chan struct{} // closed when the process has exited
}

func (c *container) supervise(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		d, err := c.ensure(ctx)
		if err == nil {
			err = c.serve(ctx, d)
			if ctx.Err() != nil {
				c.stop(d)
				return
			}
			select {
			case <-d.done:
				c.log.Warn("pebble exited; restarting it", "pid", d.pid, "err", err)
				backoff = 100 * time.Millisecond
				continue
			default:
				c.log.Warn("lost pebble; reconnecting", "pid", d.pid, "err", err)
			}
		} else {
			c.log.Warn("cannot start pebble", "err", err)
		}
		select {
		case <-ctx.Done():
			if d != nil {
				c.stop(d)
			}
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// ensure adopts the daemon recorded in the pid file when it still runs,
// else starts one.
func (c *container) ensure(ctx context.Context) (*daemon, error) {
	if pid, ok := c.recorded(); ok {
		d := &daemon{pid: pid, done: make(chan struct{})}
		go watchPid(ctx, pid, d.done)
		c.log.Info("adopted running pebble", "pid", pid)
		return d, nil
	}
	for _, dir := range []string{c.pebbleDir(), filepath.Dir(c.socket())} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create %s: %w", dir, err)
		}
	}
	if _, err := os.Stat(c.cfg.Pebble); err != nil {
		return nil, fmt.Errorf("pebble binary %s is missing (%v): it must sit next to trouped; `make build` builds bin/pebble", c.cfg.Pebble, err)
	}
	os.Remove(c.socket()) // a dead daemon's; pebble refuses to bind over it
	os.Remove(c.argv0())
	if err := os.Symlink(c.cfg.Pebble, c.argv0()); err != nil {
		return nil, fmt.Errorf("cannot link the pebble binary: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(c.pebbleDir(), "pebble.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open pebble log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(c.argv0(), "run", "--create-dirs")
	cmd.Env = []string{"PEBBLE=" + c.pebbleDir(), "PEBBLE_SOCKET=" + c.socket(),
		"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "HOME=" + c.pebbleDir()}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = c.pebbleDir()
	// Its own session: it outlives an agent killed with SIGKILL (a
	// restarted agent adopts it), as a workload container outlives its
	// charm container.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start pebble: %w", err)
	}
	d := &daemon{pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() { cmd.Wait(); close(d.done) }() // reaped by us; ends with the process
	if err := atomicfile.Write(c.pidFile(), []byte(strconv.Itoa(d.pid)), 0o600); err != nil {
		syscall.Kill(d.pid, syscall.SIGKILL)
		<-d.done
		return nil, fmt.Errorf("cannot record pebble's pid: %w", err)
	}
	c.log.Info("started pebble", "pid", d.pid, "socket", c.socket())
	return d, nil
}

// recorded returns the pid in the pid file if that process is alive and
// is this container's daemon.
func (c *container) recorded() (int, bool) {
	data, err := os.ReadFile(c.pidFile())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 || !alive(pid) {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0, false
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return pid, string(argv0) == c.argv0()
}

// serve waits for the daemon to answer, queues pebble-ready for a daemon
// boot not seen before, then turns notices into events until the daemon
// exits, stops answering, or ctx is done.
func (c *container) serve(ctx context.Context, d *daemon) error {
	cl, err := client.New(&client.Config{Socket: c.socket()})
	if err != nil {
		return err
	}
	defer cl.CloseIdleConnections()
	start := time.Now()
	var info *client.SysInfo
	for {
		if info, err = cl.SysInfo(); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.done:
			return fmt.Errorf("pebble exited before answering: %w", err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Since(start) > time.Minute {
			return fmt.Errorf("pebble did not answer within a minute: %w", err)
		}
	}
	id, err := identity(info.BootID, d.pid)
	if err != nil {
		return err
	}
	st := c.cfg.Queue.Container(c.name)
	if st.Daemon != id {
		st.Daemon = id
		if err := c.cfg.Queue.Record(c.name, st, hook.Info{Kind: hook.PebbleReady, WorkloadName: c.name}); err != nil {
			return err
		}
		c.log.Info("pebble ready", "daemon", id, "after", time.Since(start).Round(time.Millisecond))
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-d.done:
			cancel()
		case <-wctx.Done():
		}
	}()
	failures := 0
	for {
		st := c.cfg.Queue.Container(c.name)
		ns, err := cl.WaitNotices(wctx, 30*time.Second, &client.NoticesOptions{
			Types: []client.NoticeType{client.CustomNotice, client.ChangeUpdateNotice},
			After: st.Cursor,
		})
		if err != nil {
			if wctx.Err() != nil {
				return wctx.Err()
			}
			if failures++; failures >= 3 {
				return fmt.Errorf("cannot wait for notices: %w", err)
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		failures = 0
		var hooks []hook.Info
		for _, n := range ns {
			status := ""
			if NeedsChangeStatus(n) {
				ch, err := cl.Change(n.Key)
				if err != nil {
					return fmt.Errorf("cannot read change %s of notice %s: %w", n.Key, n.ID, err)
				}
				status = ch.Status
			}
			if h, ok := NoticeHook(c.name, n, status); ok {
				hooks = append(hooks, h)
			}
			if n.LastRepeated.After(st.Cursor) {
				st.Cursor = n.LastRepeated
			}
		}
		if len(ns) > 0 {
			if err := c.cfg.Queue.Record(c.name, st, hooks...); err != nil {
				return err
			}
			for _, h := range hooks {
				c.log.Info("queued workload event", "hook", h.String())
			}
		}
	}
}

// stop asks the daemon to stop its services and exit, and kills it (and
// what is left of its services' process groups) if it does not in time.
func (c *container) stop(d *daemon) {
	syscall.Kill(d.pid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(c.cfg.StopTimeout):
		syscall.Kill(d.pid, syscall.SIGKILL)
		<-d.done
	}
	os.Remove(c.pidFile())
	os.Remove(c.socket())
	// Empty directories only; the last container out removes the
	// (possibly temp-dir) containers dir.
	os.Remove(filepath.Dir(c.socket()))
	os.Remove(ContainersDir(c.cfg.UnitDir))
	c.log.Info("stopped pebble", "pid", d.pid)
}

// watchPid closes done when pid (not our child) has exited, or with ctx.
func watchPid(ctx context.Context, pid int, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for alive(pid) {
		select {
		case <-ctx.Done():
			// Stopping: wait for the exit stop() asked for.
			for alive(pid) {
				time.Sleep(50 * time.Millisecond)
			}
			return
		case <-t.C:
		}
	}
}

// identity names one daemon process for the life of the machine: the
// boot id, its pid and its start time (field 22 of /proc/<pid>/stat).
func identity(bootID string, pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", fmt.Errorf("cannot identify pebble (pid %d): %w", pid, err)
	}
	i := bytes.LastIndexByte(data, ')')
	fields := strings.Fields(string(data[i+1:]))
	if i < 0 || len(fields) < 20 {
		return "", fmt.Errorf("cannot identify pebble (pid %d): unexpected /proc stat %q", pid, data)
	}
	return bootID + "/" + strconv.Itoa(pid) + "/" + fields[19], nil
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(data, ')'); i >= 0 && i+2 < len(data) {
		return data[i+2] != 'Z'
	}
	return true
}
