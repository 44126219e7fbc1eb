package ctlmetrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/troupe-dev/troupe/controller/presence"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/metrics"
	"github.com/troupe-dev/troupe/internal/modelconfig"
	"github.com/troupe-dev/troupe/internal/store"
)

// Agents is the family of agents by presence state.
const Agents = metrics.Namespace + "agents"

// Presence is the part of *presence.Tracker the agent count reads.
type Presence interface {
	State(tag string, lostAfter time.Duration) presence.State
}

// AgentKey is one series of the agent count: kind machine or unit, state
// connected, disconnected or lost.
type AgentKey struct{ Kind, State string }

// agentStates are the states every kind reports, zero or not.
var agentStates = []presence.State{presence.Connected, presence.Disconnected, presence.Lost}

// CountAgents reads every model's units and machines and counts the
// agents among them by presence under the model's lost-after. An entity
// has an agent once it was given a credential (a provisioned machine, a
// unit its machine agent deployed) and until it is dead; others are not
// counted, so a machine still being provisioned is not "lost".
func CountAgents(ctx context.Context, l Lister, p Presence) (map[AgentKey]int, error) {
	counts := map[AgentKey]int{}
	models, _, err := l.List(ctx, entity.ModelsPrefix)
	if err != nil {
		return nil, err
	}
	for _, kv := range models {
		var m entity.Model
		if err := store.Decode(kv, &m); err != nil {
			return nil, err
		}
		lostAfter := modelconfig.Effective(m.Config).LostAfter
		count := func(kind, name string, life entity.Life, hasAgent bool) {
			if !hasAgent || life == entity.Dead {
				return
			}
			st := p.State(entity.Tag{Kind: kind, Model: m.UUID, Name: name}.String(), lostAfter)
			counts[AgentKey{kind, st.String()}]++
		}
		units, _, err := l.List(ctx, entity.ModelPrefix(m.UUID)+"unit/")
		if err != nil {
			return nil, err
		}
		for _, kv := range units {
			var u entity.Unit
			if store.Decode(kv, &u) == nil {
				count(entity.KindUnit, u.Name, u.Life, u.PasswordHash != "")
			}
		}
		machines, _, err := l.List(ctx, entity.ModelPrefix(m.UUID)+"machine/")
		if err != nil {
			return nil, err
		}
		for _, kv := range machines {
			var mc entity.Machine
			if store.Decode(kv, &mc) == nil {
				count(entity.KindMachine, mc.ID, mc.Life, mc.PasswordHash != "")
			}
		}
	}
	return counts, nil
}

type agentCollector struct {
	desc   *prometheus.Desc
	errors prometheus.Counter

	mu     sync.Mutex // serialises scrapes; guards the fields below
	src    Lister
	pres   Presence
	read   time.Time
	counts map[AgentKey]int
}

// CountAgentsFrom makes scrapes count the agents of the entities in l by
// their presence in p (the API server's tracker) until the returned
// function is called.
func (m *Metrics) CountAgentsFrom(l Lister, p Presence) (stop func()) {
	c := m.agents
	c.mu.Lock()
	c.src, c.pres, c.read, c.counts = l, p, time.Time{}, nil
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.src == l && c.pres == p {
			c.src, c.pres, c.counts = nil, nil, nil
		}
	}
}

// Describe implements prometheus.Collector.
func (c *agentCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector: without a source, or when the
// store cannot be read, it reports nothing (and counts the error).
func (c *agentCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.src == nil {
		return
	}
	if c.counts == nil || time.Since(c.read) >= minInterval {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		counts, err := CountAgents(ctx, c.src, c.pres)
		cancel()
		if err != nil {
			c.errors.Inc()
			return
		}
		c.counts, c.read = counts, time.Now()
	}
	for _, kind := range []string{entity.KindMachine, entity.KindUnit} {
		for _, st := range agentStates {
			k := AgentKey{kind, st.String()}
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(c.counts[k]), k.Kind, k.State)
		}
	}
}
