package uniter

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/juju/clock"
	"google.golang.org/protobuf/proto"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/internal/hooktool"
	"github.com/troupe-dev/troupe/internal/machinelock"
	"github.com/troupe-dev/troupe/internal/sockpath"
	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/opstate"
	"github.com/troupe-dev/troupe/workers/uniter/outbox"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// JujuVersion is the version reported to charms in JUJU_VERSION; ops gates
// its modern code paths on it.
const JujuVersion = "3.6.11"

// API is the part of the controller API the uniter uses.
type API interface {
	apipb.ControllerClient
}

// Leadership answers whether this unit leads its application.
type Leadership interface {
	// IsLeader reports the last known state without blocking.
	IsLeader() bool
	// ClaimNow claims or renews the lease; true guarantees leadership for
	// 30 seconds from the return.
	ClaimNow(ctx context.Context) (bool, error)
	// Changes signals leadership changes.
	Changes() <-chan struct{}
}

// Config configures a uniter.
type Config struct {
	API       API
	Unit      string
	MachineID string
	UnitDir   string // the unit's agent dir: charm/, state/, tools/, agent.socket
	HookTool  string // the hook-tool client binary
	// ToolsDir is where the hook-tool links are, shared by the units of
	// a machine (linking ~40 tools per unit was a sixth of a machine
	// agent's CPU in a large deploy); empty means UnitDir/tools. Links
	// of the unit's own (pebble) are always in UnitDir/tools.
	ToolsDir   string
	Lock       *machinelock.Lock
	Leadership Leadership
	Logger     *slog.Logger
	// UpdateStatusInterval is the update-status period used when the
	// controller sends none; zero means 5m. The model's
	// update-status-hook-interval (in the unit snapshot) wins.
	UpdateStatusInterval time.Duration
	// Clock drives the update-status and hook-retry timers; nil means
	// clock.WallClock.
	Clock clock.Clock
	// RetryStrategy is the automatic hook retry backoff; the zero value
	// means DefaultRetryStrategy.
	RetryStrategy RetryStrategy
	// Metrics, if not nil, receives hook runs and the outbox state
	// (metrics.go).
	Metrics Metrics

	// WorkloadEvents, if not nil, is the unit's durable queue of Pebble
	// events (workload.go).
	WorkloadEvents WorkloadEvents
	// ContainersDir is the host directory holding the unit's Pebble
	// sockets (<name>/pebble.socket); MountHelper is the binary that
	// bind-mounts it on /charm/containers in a private mount namespace
	// (troupe-mountns, internal/mountns). When both are set and the charm
	// declares containers, hooks, actions and exec run in that namespace.
	ContainersDir string
	MountHelper   string
	// Pebble, if set, is the pebble binary, put on the hooks' PATH.
	Pebble string
	// OutboxLimit bounds the outbox (entries; see outbox.OpenLimit):
	// past it the oldest log lines are dropped, never commits, statuses
	// or action results. Zero means outbox.DefaultLimit.
	OutboxLimit int
	// MachineDir is the machine agent's data dir, which holds the unit's
	// storage (storage.go); empty means two levels above UnitDir.
	MachineDir string
}

// Uniter runs one unit's hooks. Create with New and drive with Run.
type Uniter struct {
	cfg      Config
	ctx      context.Context // the Run context; set for the duration of Run
	store    *opstate.Store
	outbox   *outbox.Outbox
	kicks    chan struct{} // asks the deliverer to send the outbox (reports.go)
	linkDown atomic.Bool   // the last delivery found the controller unreachable
	// agentStatus sends agent statuses off the machine lock, in order
	// with the outbox (agentstatus.go); set for the duration of Run.
	agentStatus *statusSender
	server      *hooktool.Server[hookcmds.Context]
	snap        *apipb.UnitSnapshotResult // latest remote snapshot; Run goroutine only
	local       resolver.State            // local state the current op was decided on; Run goroutine only
	hookContext string                    // context id of the hook RunHook last ran, "" for none; Run goroutine only
	stagedCharm string                    // the charm URL unpacked in state/charm-staging by stageCharm, "" for none; Run goroutine only
	update      int                       // update-status version
	secrets     secretEvents              // Run goroutine only
	// containersFor caches whether the deployed charm declares
	// containers; Run goroutine only.
	containersFor *charmContainers
}

func (u *Uniter) charmDir() string { return filepath.Join(u.cfg.UnitDir, "charm") }
func (u *Uniter) toolsDir() string { return filepath.Join(u.cfg.UnitDir, "tools") }
func (u *Uniter) socket() string   { return SocketPath(u.cfg.UnitDir) }

// hookToolsDir holds the hook-tool links.
func (u *Uniter) hookToolsDir() string {
	if u.cfg.ToolsDir != "" {
		return u.cfg.ToolsDir
	}
	return u.toolsDir()
}

// SocketPath is the unit's hook-tool socket (see internal/sockpath).
// Charms only ever see it through JUJU_AGENT_SOCKET_ADDRESS.
func SocketPath(unitDir string) string { return sockpath.For(unitDir, "agent.socket") }

func (u *Uniter) snapshot() (*apipb.UnitSnapshotResult, error) {
	s, err := u.cfg.API.UnitSnapshot(u.ctx, &apipb.UnitSnapshotRequest{Unit: u.cfg.Unit})
	if err != nil {
		return nil, fmt.Errorf("cannot read unit state: %w", err)
	}
	return s, nil
}

// Run reconciles until ctx is done or an error occurs (the engine then
// restarts the uniter, which resumes from its persisted operation state).
func Run(ctx context.Context, cfg Config) error {
	if cfg.UpdateStatusInterval == 0 {
		cfg.UpdateStatusInterval = 5 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.WallClock
	}
	if cfg.RetryStrategy == (RetryStrategy{}) {
		cfg.RetryStrategy = DefaultRetryStrategy
	}
	if err := cfg.RetryStrategy.Validate(); err != nil {
		return err
	}
	u := &Uniter{cfg: cfg, ctx: ctx}
	for _, d := range []string{cfg.UnitDir, filepath.Join(cfg.UnitDir, "state"), u.toolsDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := hooktool.EnsureSymlinksShared(u.hookToolsDir(), cfg.HookTool, hooktool.ToolNames); err != nil {
		return fmt.Errorf("cannot install hook tools: %w", err)
	}
	if err := u.installPebbleCLI(); err != nil {
		return fmt.Errorf("cannot install the pebble client: %w", err)
	}
	st, err := opstate.Open(filepath.Join(cfg.UnitDir, "state", "uniter.json"))
	if err != nil {
		return err
	}
	u.store = st
	ob, err := outbox.OpenLimit(filepath.Join(cfg.UnitDir, "state", "outbox.json"), cfg.OutboxLimit)
	if err != nil {
		return err
	}
	u.outbox = ob
	u.kicks = make(chan struct{}, 1)
	u.agentStatus = newStatusSender(cfg.Unit, cfg.Logger, func(ctx context.Context, st *apipb.StatusInfo) error {
		_, err := cfg.API.SetUnitStatus(ctx, &apipb.SetUnitStatusRequest{Unit: cfg.Unit, Agent: st})
		return err
	})
	statusCtx, stopStatus := context.WithCancel(ctx)
	statusDone := make(chan struct{})
	go func() { defer close(statusDone); u.agentStatus.run(statusCtx) }()
	defer func() { stopStatus(); <-statusDone }()
	deliverCtx, stopDeliverer := context.WithCancel(ctx)
	delivererDone := make(chan struct{})
	go func() { defer close(delivererDone); u.deliverer(deliverCtx) }()
	defer func() { stopDeliverer(); <-delivererDone }()
	srv, err := hooktool.NewServer(u.socket(), hookcmds.Serve)
	if err != nil {
		return fmt.Errorf("cannot start hook tool server: %w", err)
	}
	u.server = srv
	defer srv.Close()

	state, _, err := st.Load()
	if err != nil {
		return err
	}
	u.killOrphans()
	if h, inError := state.InError(); inError {
		msg, data := resolver.HookErrorStatus(h)
		u.SetAgentStatus(ctx, resolver.StatusError, msg, data)
	}

	changes := make(chan struct{}, 1)
	watchCtx, cancelWatch := context.WithCancel(ctx)
	defer cancelWatch()
	watchErr := make(chan error, 1)
	go func() { watchErr <- u.watch(watchCtx, changes) }()
	defer func() { cancelWatch(); <-watchErr }()

	updates := &updateTimer{clock: cfg.Clock}
	defer updates.stop()
	due := &dueTimer{clock: cfg.Clock}
	defer due.stop()
	exec := &resolver.Executor{Store: st, Callbacks: u}
	leaderSettings := 1
	idle := false
	wasOffline := false
	retry := &retrier{clock: cfg.Clock, strategy: cfg.RetryStrategy}
	defer retry.stop()
	for {
		// Hooks read committed data from the controller, so what earlier
		// hooks committed is delivered before the next decision.
		err := u.deliver(ctx)
		u.observeOutbox()
		offline := unreachable(err)
		if err != nil && !offline {
			return err
		}
		var snap *apipb.UnitSnapshotResult
		if !offline {
			if snap, err = u.snapshot(); unreachable(err) {
				offline = true
			} else if err != nil {
				return err
			} else if !proto.Equal(snap, u.snap) {
				u.saveSnapshot(snap)
			}
		}
		if offline { // offline.go
			if snap, err = u.cachedSnapshot(); err != nil {
				return fmt.Errorf("controller unreachable and %w", err)
			}
		}
		if offline != wasOffline {
			cfg.Logger.Info("controller reachability changed; offline, only update-status runs", "unit", cfg.Unit, "offline", offline)
			wasOffline = offline
		}
		u.snap = snap
		if !offline && u.agentStatus.hasUnsent() {
			u.agentStatus.resendUnsent()
		}
		if !offline {
			if n, err := u.provisionStorage(ctx, snap); err != nil {
				return err
			} else if n > 0 {
				continue // re-read: the storage is attached now
			}
		}
		updates.arm(updateInterval(snap, cfg.UpdateStatusInterval))
		due.arm(snap.SecretNextDueMs)
		leader := cfg.Leadership.IsLeader()
		workload, err := u.workloadEvents(state)
		if err != nil {
			return err
		}
		remote := resolver.Snapshot{
			UnitName: cfg.Unit, Life: resolver.Life(snap.Life), CharmURL: snap.CharmUrl,
			ConfigHash: snap.ConfigHash, Leader: leader,
			LeaderSettingsVersion: leaderSettings + int(snap.LeaderSettingsVersion), UpdateStatusVersion: u.update,
			RetryHookVersion: retry.version, ResolvedMode: resolver.ResolvedMode(snap.Resolved),
			Relations:      remoteRelations(snap),
			Storage:        remoteStorage(snap),
			ActionsPending: snap.ActionsPending,
			SecretEvents:   u.secrets.events(snap, leader),
			WorkloadEvents: workload,
		}
		if _, inError := state.InError(); !inError {
			retry.reset()
		}
		op, err := resolver.NextOp(state, remote)
		if err == nil && offline && !allowedOffline(op) {
			err = resolver.ErrWaiting // needs the controller: wait for the link
		}
		switch {
		case errors.Is(err, resolver.ErrNoOperation), errors.Is(err, resolver.ErrWaiting):
			if !idle {
				if _, inError := state.InError(); !inError {
					if err := u.SetAgentStatus(ctx, resolver.StatusIdle, "", nil); err != nil {
						return err
					}
				}
				idle = true
			}
			// Armed only while idle in error, so the delay runs from the
			// failure; off when the model disables automatic retries.
			_, inError := state.InError()
			retry.track(inError, snap.AutomaticallyRetryHooks)
			select {
			case <-ctx.Done():
				return nil
			case err := <-watchErr:
				if ctx.Err() != nil {
					watchErr <- err
					return nil // stopping: the watch ended with ctx
				}
				if !unreachable(err) {
					watchErr <- err
					return fmt.Errorf("unit watch stopped: %w", err)
				}
				go func() { // offline: watch again after a pause
					select {
					case <-watchCtx.Done():
						watchErr <- nil
						return
					case <-cfg.Clock.After(offlineRetry):
					}
					watchErr <- u.watch(watchCtx, changes)
				}()
			case <-offlineTick(cfg.Clock, offline || u.agentStatus.hasUnsent()):
			case <-changes:
			case <-u.agentStatus.Unsent:
			case <-u.workloadChanges():
			case <-cfg.Leadership.Changes():
			case <-updates.C():
				updates.fired()
				u.update++
			case <-retry.C():
				retry.fired()
			case <-due.C():
				due.fired()
			}
			continue
		case errors.Is(err, resolver.ErrUnitDead):
			if _, err := cfg.API.UnitDead(ctx, &apipb.UnitDeadRequest{Unit: cfg.Unit}); err != nil {
				return fmt.Errorf("cannot report unit dead: %w", err)
			}
			cfg.Logger.Info("unit is dead", "unit", cfg.Unit)
			<-ctx.Done() // nothing more to do; the deployer stops this agent
			return nil
		case err != nil:
			return err
		}
		idle = false
		u.local = state
		cfg.Logger.Info("running operation", "unit", cfg.Unit, "op", op.String())
		if op.Kind == resolver.OpDeploy || op.Kind == resolver.OpUpgrade {
			// Download and unpack before the executor takes the machine
			// lock: only the swap into place needs it (§8.3 serialises
			// what changes the machine, not fetching into our own
			// directory), so other units' hooks go on meanwhile.
			if err := u.stageCharm(ctx, op.CharmURL); err != nil {
				return fmt.Errorf("operation %s failed: %w", op, err)
			}
		}
		if state, err = exec.Run(ctx, state, op); err != nil {
			return fmt.Errorf("operation %s failed: %w", op, err)
		}
	}
}

func (u *Uniter) watch(ctx context.Context, changes chan<- struct{}) error {
	stream, err := u.cfg.API.WatchUnit(ctx, &apipb.WatchUnitRequest{Unit: u.cfg.Unit})
	if err != nil {
		return err
	}
	for {
		if _, err := stream.Recv(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case changes <- struct{}{}:
		default:
		}
	}
}

// --- resolver.Callbacks -----------------------------------------------------

// AcquireMachineLock implements resolver.Callbacks.
func (u *Uniter) AcquireMachineLock(ctx context.Context, why string) (func(), error) {
	return u.cfg.Lock.Acquire(ctx, u.cfg.Unit, why)
}

// ClearResolved implements resolver.Callbacks.
func (u *Uniter) ClearResolved(ctx context.Context) error {
	_, err := u.cfg.API.ClearResolved(ctx, &apipb.ClearResolvedRequest{Unit: u.cfg.Unit})
	return err
}

// DeployCharm implements resolver.Callbacks: it downloads the charm and
// swaps it into place atomically.
func (u *Uniter) DeployCharm(ctx context.Context, url string, _ int, upgrade bool) error {
	if err := u.stageCharm(ctx, url); err != nil {
		return err
	}
	staging := u.stagingDir()
	u.stagedCharm = "" // consumed by the swap below
	old := u.charmDir() + ".old"
	os.RemoveAll(old)
	if _, err := os.Stat(u.charmDir()); err == nil {
		if err := os.Rename(u.charmDir(), old); err != nil {
			return err
		}
	}
	if err := os.Rename(staging, u.charmDir()); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

func (u *Uniter) stagingDir() string { return filepath.Join(u.cfg.UnitDir, "state", "charm-staging") }

// stageCharm downloads url and unpacks it in the staging directory, once:
// a staging already holding url (unpacked by this process: stagedCharm)
// is kept. The run loop calls it before a deploy or upgrade takes the
// machine lock; DeployCharm calls it again, which then only checks.
func (u *Uniter) stageCharm(ctx context.Context, url string) error {
	staging := u.stagingDir()
	if u.stagedCharm == url {
		if _, err := os.Stat(staging); err == nil {
			return nil
		}
	}
	u.stagedCharm = ""
	res, err := u.cfg.API.GetCharm(ctx, &apipb.GetCharmRequest{CharmUrl: url})
	if err != nil {
		return fmt.Errorf("cannot download charm %s: %w", url, err)
	}
	os.RemoveAll(staging)
	if err := charm.Unpack(bytes.NewReader(res.Archive), int64(len(res.Archive)), staging, charm.DefaultLimits()); err != nil {
		return fmt.Errorf("cannot unpack charm %s: %w", url, err)
	}
	u.stagedCharm = url
	return nil
}

// RunHook implements resolver.Callbacks.
func (u *Uniter) RunHook(ctx context.Context, h hook.Info) (err error) {
	name := h.Name()
	u.hookContext = "" // set below once a process is to run
	handler, err := charm.FindHandler(u.charmDir(), name)
	if errors.Is(err, charm.ErrNoHandler) {
		u.cfg.Logger.Info("skipped hook (missing)", "unit", u.cfg.Unit, "hook", name)
		if h.Kind.IsSecret() { // the hook is done: it is no longer due
			return u.commitHook(name, hookcmds.Changes{}, &backend{u: u, snap: u.snap, hook: h})
		}
		return nil
	}
	defer u.observeHook(name, time.Now(), &err)
	if err != nil {
		return fmt.Errorf("%w: %v", resolver.ErrHookFailed, err)
	}
	idb := make([]byte, 16)
	rand.Read(idb)
	contextID := u.cfg.Unit + "-" + name + "-" + hex.EncodeToString(idb)
	u.hookContext = contextID
	if h.Kind == hook.RelationCreated {
		if err := u.enterScope(ctx, h); err != nil {
			return err
		}
	}
	info := hookcmds.HookInfo{UnitName: u.cfg.Unit, ModelUUID: u.snap.ModelUuid, RelationID: -1}
	if h.Kind.IsRelation() {
		info.RelationID, info.RemoteUnit, info.RemoteApp = h.RelationID, h.RemoteUnit, h.RemoteApp
	}
	info.StorageID = h.StorageID
	be := &backend{u: u, snap: u.snap, log: u.cfg.Logger, info: info, local: u.local, hook: h}
	hs := hookcmds.NewHookState(hookcmds.HookStateConfig{Backend: be})
	end := u.server.Begin(contextID, hs)
	defer end()

	cmd := exec.CommandContext(ctx, handler.Path)
	cmd.Dir = u.charmDir()
	cmd.Env = u.env(name, contextID, h)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = u.runInGroup(cmd)
	if lerr := u.logHookOutput(name, out.Bytes()); lerr != nil {
		return lerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return resolver.ErrTerminated
		}
		return fmt.Errorf("%w: hook %q: %v", resolver.ErrHookFailed, name, err)
	}
	end()
	return u.commitHook(name, hs.Changes(), be)
}

// path is the hooks' PATH: the hook tools, the unit's own tools, the
// agent's PATH.
func (u *Uniter) path() string {
	p := u.toolsDir() + ":" + os.Getenv("PATH")
	if u.hookToolsDir() != u.toolsDir() {
		p = u.hookToolsDir() + ":" + p
	}
	return p
}

func (u *Uniter) env(hookName, contextID string, h hook.Info) []string {
	vars := map[string]string{
		"CHARM_DIR": u.charmDir(), "JUJU_CHARM_DIR": u.charmDir(), "JUJU_CONTEXT_ID": contextID,
		"JUJU_HOOK_NAME": hookName, "JUJU_DISPATCH_PATH": "hooks/" + hookName,
		"JUJU_AGENT_SOCKET_ADDRESS": u.socket(), "JUJU_AGENT_SOCKET_NETWORK": "unix",
		"JUJU_UNIT_NAME": u.cfg.Unit, "JUJU_MODEL_UUID": u.snap.ModelUuid, "JUJU_MODEL_NAME": u.snap.ModelName,
		"JUJU_API_ADDRESSES": strings.Join(u.snap.ApiAddresses, " "), "JUJU_SLA": "unsupported",
		"JUJU_MACHINE_ID": u.cfg.MachineID, "JUJU_PRINCIPAL_UNIT": u.snap.Principal, "JUJU_AVAILABILITY_ZONE": "",
		"JUJU_VERSION": JujuVersion, "CLOUD_API_VERSION": "",
		"JUJU_CHARM_HTTP_PROXY": "", "JUJU_CHARM_HTTPS_PROXY": "", "JUJU_CHARM_FTP_PROXY": "", "JUJU_CHARM_NO_PROXY": "",
		"PATH": u.path(),
		"LANG": "C.UTF-8", "TERM": "tmux-256color",
		"APT_LISTCHANGES_FRONTEND": "none", "DEBIAN_FRONTEND": "noninteractive",
	}
	for k, v := range h.Env() {
		vars[k] = v
	}
	if h.Kind.IsStorage() {
		storageEnv(u.snap, h.StorageID, vars)
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out
}

// CommitHook implements resolver.Callbacks. The executor calls it once
// the hook's done step is durable, so from this line on the hook can
// never run again; crash tests rely on the log line.
func (u *Uniter) CommitHook(ctx context.Context, h hook.Info, contextID string) error {
	u.cfg.Logger.Info("hook committed", "unit", u.cfg.Unit, "hook", h.Name(), "context", contextID)
	return nil
}

// HookContext implements resolver.Callbacks.
func (u *Uniter) HookContext() string { return u.hookContext }

// RunAction and FailAction are in action.go.

// SetAgentStatus implements resolver.Callbacks. A hook error is recorded
// as agent status `error`; status output shows it, as Juju does, as
// workload `error` with the hook message and agent `idle`.
func (u *Uniter) SetAgentStatus(ctx context.Context, st resolver.AgentStatus, msg string, data map[string]any) error {
	// Queued, not sent here: the executor holds the machine lock
	// (agentstatus.go). A refusal fails the next outbox delivery.
	u.agentStatus.set(&apipb.StatusInfo{Current: string(st), Message: msg})
	return nil
}
