package ctlmetrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Lister is the part of *store.Store the entity count reads.
type Lister interface {
	List(ctx context.Context, prefix string) ([]store.KV, int64, error)
}

// EntityKinds are the kinds counted, in the order they are read.
var EntityKinds = []string{"model", "application", "unit", "machine", "relation"}

var lives = []entity.Life{entity.Alive, entity.Dying, entity.Dead}

// EntityKey is one series of the entity count.
type EntityKey struct{ Kind, Life string }

// Tally adds the documents of one kind to counts by their life. A
// document that is not JSON with a "life" is an error; an empty life
// counts as "unknown".
func Tally(counts map[EntityKey]int, kind string, kvs []store.KV) error {
	for _, kv := range kvs {
		var doc struct {
			Life entity.Life `json:"life"`
		}
		if err := json.Unmarshal(kv.Value, &doc); err != nil {
			return fmt.Errorf("cannot decode %s: %w", kv.Key, err)
		}
		life := string(doc.Life)
		if life == "" {
			life = "unknown"
		}
		counts[EntityKey{kind, life}]++
	}
	return nil
}

// CountEntities reads every model and its applications, units, machines
// and relations: one List per kind per model.
func CountEntities(ctx context.Context, l Lister) (map[EntityKey]int, error) {
	counts := map[EntityKey]int{}
	models, _, err := l.List(ctx, entity.ModelsPrefix)
	if err != nil {
		return nil, err
	}
	if err := Tally(counts, "model", models); err != nil {
		return nil, err
	}
	for _, kv := range models {
		var m entity.Model
		if err := store.Decode(kv, &m); err != nil {
			return nil, err
		}
		for _, k := range []struct{ kind, sub string }{{"application", "app/"}, {"unit", "unit/"}, {"machine", "machine/"}, {"relation", "relation/"}} {
			kvs, _, err := l.List(ctx, entity.ModelPrefix(m.UUID)+k.sub)
			if err != nil {
				return nil, err
			}
			if err := Tally(counts, k.kind, kvs); err != nil {
				return nil, err
			}
		}
	}
	return counts, nil
}

// minInterval bounds the cost of entity counting: scrapes closer together
// than this share one read of the store.
const minInterval = time.Second

type entityCollector struct {
	desc   *prometheus.Desc
	errors prometheus.Counter

	mu     sync.Mutex // serialises scrapes; guards the fields below
	src    Lister
	read   time.Time
	counts map[EntityKey]int
}

// CountEntitiesFrom makes scrapes count the entities in l (the store
// manifold's store) until the returned function is called.
func (m *Metrics) CountEntitiesFrom(l Lister) (stop func()) {
	c := m.entities
	c.mu.Lock()
	c.src, c.read, c.counts = l, time.Time{}, nil
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.src == l {
			c.src, c.counts = nil, nil
		}
	}
}

// Describe implements prometheus.Collector.
func (c *entityCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector: without a store, or when the
// store cannot be read, it reports nothing (and counts the error).
func (c *entityCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.src == nil {
		return
	}
	if c.counts == nil || time.Since(c.read) >= minInterval {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		counts, err := CountEntities(ctx, c.src)
		cancel()
		if err != nil {
			c.errors.Inc()
			return
		}
		c.counts, c.read = counts, time.Now()
	}
	for _, kind := range EntityKinds {
		for _, life := range lives {
			if _, ok := c.counts[EntityKey{kind, string(life)}]; !ok {
				c.counts[EntityKey{kind, string(life)}] = 0
			}
		}
	}
	keys := make([]EntityKey, 0, len(c.counts))
	for k := range c.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Kind != keys[j].Kind {
			return keys[i].Kind < keys[j].Kind
		}
		return keys[i].Life < keys[j].Life
	})
	for _, k := range keys {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(c.counts[k]), k.Kind, k.Life)
	}
}

// expected reports store errors that are outcomes, not failures.
func expected(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict)
}
