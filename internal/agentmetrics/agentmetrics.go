// Package agentmetrics holds a machine agent's Prometheus families: hook
// runs, failures and durations by hook name, machine-lock wait and hold
// times, each unit's outbox depth and the age of its oldest entry, engine
// worker starts and restarts by manifold, and API reconnects (restarts of
// each agent's api-caller).
//
// The machine agent owns one Machine (registry and HTTP endpoint); each
// unit agent running in it takes a Unit view with ForUnit (its `metrics`
// manifold), which the uniter reports to and which forgets the unit's
// series when closed. Machine is also the machine lock's observer.
//
// Who imports it: machineagent, unitagent. It imports no agent code.
package agentmetrics

import (
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/troupe-dev/troupe/internal/metrics"
)

// Family names.
const (
	HookRuns       = metrics.Namespace + "hook_runs_total"
	HookFailures   = metrics.Namespace + "hook_failures_total"
	HookDuration   = metrics.Namespace + "hook_duration_seconds"
	LockWait       = metrics.Namespace + "machine_lock_wait_seconds"
	LockHold       = metrics.Namespace + "machine_lock_hold_seconds"
	OutboxPending  = metrics.Namespace + "outbox_pending"
	OutboxAge      = metrics.Namespace + "outbox_oldest_age_seconds"
	WorkerStarts   = metrics.Namespace + "engine_worker_starts_total"
	WorkerRestarts = metrics.Namespace + "engine_worker_restarts_total"
	APIReconnects  = metrics.Namespace + "agent_api_reconnects_total"
	UnitAgents     = metrics.Namespace + "unit_agents"
)

// APICallerManifold is the manifold whose restarts are reconnects.
const APICallerManifold = "api-caller"

// Machine is one machine agent's families. Safe for concurrent use.
type Machine struct {
	reg          *metrics.Registry
	hookRuns     *prometheus.CounterVec
	hookFailures *prometheus.CounterVec
	hookDuration *prometheus.HistogramVec
	lockWait     prometheus.Histogram
	lockHold     prometheus.Histogram
	outbox       *outboxCollector
	engines      *engineCollector
}

// New registers a machine agent's families in a new registry. now is the
// clock outbox ages are measured on; nil means time.Now.
func New(now func() time.Time) *Machine {
	if now == nil {
		now = time.Now
	}
	r := metrics.NewRegistry()
	m := &Machine{
		reg:          r,
		hookRuns:     r.CounterVec(HookRuns, "Hooks run by the unit agents of this machine, by hook name (missing hooks are not run).", "hook"),
		hookFailures: r.CounterVec(HookFailures, "Hooks that failed (non-zero exit or could not start), by hook name.", "hook"),
		hookDuration: r.HistogramVec(HookDuration, "Wall time of hook runs by hook name, hook-tool calls and commit included.", metrics.LongBuckets, "hook"),
		lockWait:     r.Histogram(LockWait, "Time a unit waited for the machine lock before running an operation.", metrics.LongBuckets),
		lockHold:     r.Histogram(LockHold, "Time a unit held the machine lock.", metrics.LongBuckets),
		outbox: &outboxCollector{now: now, units: map[string]outboxState{},
			pending: prometheus.NewDesc(OutboxPending, "Committed hook effects not yet acknowledged by the controller, by unit.", []string{"unit"}, nil),
			age:     prometheus.NewDesc(OutboxAge, "Age of the oldest unacknowledged outbox entry by unit; 0 when empty.", []string{"unit"}, nil),
		},
		engines: &engineCollector{
			starts:     prometheus.NewDesc(WorkerStarts, "Times each engine worker was started, by agent (machine or unit name) and manifold.", []string{"agent", "manifold"}, nil),
			restarts:   prometheus.NewDesc(WorkerRestarts, "Times each engine worker was restarted (starts after the first), by agent and manifold.", []string{"agent", "manifold"}, nil),
			reconnects: prometheus.NewDesc(APIReconnects, "Reconnects of each agent's API connection, by agent: restarts of its api-caller plus re-dials of its transport (a dropped link gRPC re-established).", []string{"agent"}, nil),
			agents:     prometheus.NewDesc(UnitAgents, "Unit agents running in this machine agent.", nil, nil),
		},
	}
	r.Register(m.outbox, OutboxPending, OutboxAge)
	r.Register(m.engines, WorkerStarts, WorkerRestarts, APIReconnects, UnitAgents)
	return m
}

// Registry is the registry holding the families.
func (m *Machine) Registry() *metrics.Registry { return m.reg }

// MachineAgent is the agent label of the machine agent's own series.
const MachineAgent = "machine"

// Redialed counts one re-dial of agent's API transport (the machine
// agent's is MachineAgent, a unit agent's its unit name); it adds to the
// agent's reconnects. m may be nil.
func (m *Machine) Redialed(agent string) {
	if m == nil {
		return
	}
	m.engines.mu.Lock()
	defer m.engines.mu.Unlock()
	if m.engines.redials == nil {
		m.engines.redials = map[string]int{}
	}
	m.engines.redials[agent]++
}

// LockAcquired implements machinelock.Observer.
func (m *Machine) LockAcquired(waited time.Duration) { m.lockWait.Observe(waited.Seconds()) }

// LockReleased implements machinelock.Observer.
func (m *Machine) LockReleased(held time.Duration) { m.lockHold.Observe(held.Seconds()) }

// Reports returns the engine report of every agent: "machine" and each
// unit's name. Machine agents set it with SetEngineReports.
type Reports func() map[string]map[string]any

// SetEngineReports makes scrapes read worker starts from reports.
func (m *Machine) SetEngineReports(reports Reports) {
	m.engines.mu.Lock()
	defer m.engines.mu.Unlock()
	m.engines.reports = reports
}

// ForUnit returns the view the unit agent of unit reports to.
func (m *Machine) ForUnit(unit string) *Unit { return &Unit{m: m, unit: unit} }

// Unit is one unit agent's view of its machine's families; it implements
// the uniter's Metrics interface. A nil *Unit ignores every report.
type Unit struct {
	m    *Machine
	unit string
}

// HookRan records one hook run.
func (u *Unit) HookRan(hook string, took time.Duration, failed bool) {
	if u == nil {
		return
	}
	u.m.hookRuns.WithLabelValues(hook).Inc()
	u.m.hookDuration.WithLabelValues(hook).Observe(took.Seconds())
	if failed {
		u.m.hookFailures.WithLabelValues(hook).Inc()
	}
}

// OutboxState records the unit's outbox: pending entries and when the
// oldest was appended (zero when empty or unknown).
func (u *Unit) OutboxState(pending int, oldest time.Time) {
	if u == nil {
		return
	}
	u.m.outbox.set(u.unit, outboxState{pending: pending, oldest: oldest})
}

// Close forgets the unit's outbox series (its agent stopped).
func (u *Unit) Close() {
	if u == nil {
		return
	}
	u.m.outbox.remove(u.unit)
}

type outboxState struct {
	pending int
	oldest  time.Time
}

type outboxCollector struct {
	pending, age *prometheus.Desc
	now          func() time.Time

	mu    sync.Mutex
	units map[string]outboxState
}

func (c *outboxCollector) set(unit string, s outboxState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.units[unit] = s
}

func (c *outboxCollector) remove(unit string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.units, unit)
}

// OldestAge is the age of the oldest outbox entry at now: zero for an
// empty outbox or an unknown append time.
func OldestAge(pending int, oldest, now time.Time) time.Duration {
	if pending == 0 || oldest.IsZero() || now.Before(oldest) {
		return 0
	}
	return now.Sub(oldest)
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.pending; ch <- c.age }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for unit, s := range c.units {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.pending), unit)
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, OldestAge(s.pending, s.oldest, now).Seconds(), unit)
	}
}

// StartCounts reads the start count of every manifold in a juju/worker
// dependency engine report ("manifolds" → name → "start-count").
func StartCounts(report map[string]any) map[string]int {
	out := map[string]int{}
	mans, _ := report["manifolds"].(map[string]any)
	for name, v := range mans {
		r, _ := v.(map[string]any)
		switch n := r["start-count"].(type) {
		case int:
			out[name] = n
		case float64:
			out[name] = int(n)
		default:
			out[name] = 0
		}
	}
	return out
}

type engineCollector struct {
	starts, restarts, reconnects, agents *prometheus.Desc

	mu      sync.Mutex
	reports Reports
	redials map[string]int // by agent; guarded by mu
}

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.starts
	ch <- c.restarts
	ch <- c.reconnects
	ch <- c.agents
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	reports := c.reports
	redials := maps.Clone(c.redials)
	c.mu.Unlock()
	if reports == nil {
		return
	}
	all := reports()
	agents := make([]string, 0, len(all))
	for a := range all {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	units := 0
	for _, agent := range agents {
		if agent != "machine" {
			units++
		}
		counts := StartCounts(all[agent])
		for manifold, n := range counts {
			ch <- prometheus.MustNewConstMetric(c.starts, prometheus.CounterValue, float64(n), agent, manifold)
			ch <- prometheus.MustNewConstMetric(c.restarts, prometheus.CounterValue, float64(max(n-1, 0)), agent, manifold)
		}
		if n, ok := counts[APICallerManifold]; ok {
			ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(max(n-1, 0)+redials[agent]), agent)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.agents, prometheus.GaugeValue, float64(units))
}
