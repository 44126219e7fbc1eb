// Package statushistory is the bounded status history of units and
// machines (`troupe show-status-log`).
//
// Every change of a unit's workload or agent status, or of a machine's
// instance or agent status, is one Entry. The entity's actor writes its
// entries in the same fenced transaction as the status change itself, so
// history and status never disagree (persist, then apply). Entries are
// numbered per entity (the document's StatusSeq counts them) and stored
// in a ring of Keep slots, slot = seq mod Keep: writing entry n overwrites
// entry n−Keep, so an entity's history is pruned in the very transaction
// that grows it and never holds more than Keep entries. No cleaner is
// needed; the model's removal deletes Prefix(model).
//
// The keys live outside entity.ModelPrefix so that reading a model's
// documents (status) does not read its history.
//
// Everything here is pure except the key layout constants. Who imports
// it: the unit and machine actors, the model guardian (entries of a new
// entity), the models registry (removal) and the API server (reads).
package statushistory

import (
	"fmt"
	"slices"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Entry types, Juju's `show-status-log --type` values.
const (
	Workload    = "workload"     // a unit's workload status
	JujuUnit    = "juju-unit"    // a unit agent's status
	Machine     = "machine"      // a machine's instance (provisioning) status
	JujuMachine = "juju-machine" // a machine agent's status
)

// Entity kinds in keys.
const (
	KindUnit    = "unit"
	KindMachine = "machine"
)

// Keep is how many entries are kept per entity.
const Keep = 100

// Entry is one recorded status.
type Entry struct {
	Seq     uint64    `json:"seq"`
	Type    string    `json:"type"`
	Status  string    `json:"status"`
	Message string    `json:"message,omitempty"`
	Since   time.Time `json:"since"`
}

// Prefix holds the history of every entity of a model.
func Prefix(model string) string { return store.Prefix + "status-history/" + model + "/" }

// EntityPrefix holds the history of one entity (kind KindUnit or
// KindMachine; id a unit name or machine id).
func EntityPrefix(model, kind, id string) string { return Prefix(model) + kind + "/" + id + "/" }

// Key is the ring slot entry seq is stored in.
func Key(model, kind, id string, seq uint64) string {
	return EntityPrefix(model, kind, id) + fmt.Sprintf("%02d", seq%Keep)
}

// change is one status field's old and new value.
type change struct {
	typ       string
	cur, next entity.Status
}

// entries numbers the changed fields' new values from seq+1, in order.
func entries(seq uint64, cs ...change) []Entry {
	var out []Entry
	for _, c := range cs {
		// A re-set of the same value is not a change (a provisioner
		// retrying an error each pass must not flood the history).
		if c.next.Current == "" || (c.next.Current == c.cur.Current && c.next.Message == c.cur.Message) {
			continue
		}
		seq++
		out = append(out, Entry{Seq: seq, Type: c.typ, Status: c.next.Current, Message: c.next.Message, Since: c.next.Since})
	}
	return out
}

// UnitEntries returns the entries a change of a unit document from cur
// (nil for a new unit) to next records, numbered after cur.StatusSeq.
func UnitEntries(cur, next *entity.Unit) []Entry {
	if cur == nil {
		cur = &entity.Unit{}
	}
	return entries(cur.StatusSeq, change{Workload, cur.Workload, next.Workload}, change{JujuUnit, cur.Agent, next.Agent})
}

// MachineEntries is UnitEntries for a machine document.
func MachineEntries(cur, next *entity.Machine) []Entry {
	if cur == nil {
		cur = &entity.Machine{}
	}
	return entries(cur.StatusSeq, change{Machine, cur.Instance, next.Instance}, change{JujuMachine, cur.Agent, next.Agent})
}

// Ops returns the puts of es into their ring slots.
func Ops(model, kind, id string, es []Entry) ([]store.Op, error) {
	ops := make([]store.Op, 0, len(es))
	for _, e := range es {
		op, err := store.Put(Key(model, kind, id, e.Seq), e)
		if err != nil {
			return nil, fmt.Errorf("cannot encode status history entry %d of %s %s: %w", e.Seq, kind, id, err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// NewUnit numbers a new unit's first entries (its initial statuses), sets
// u.StatusSeq and returns the puts to commit with the unit's document.
func NewUnit(model string, u *entity.Unit) ([]store.Op, error) {
	es := UnitEntries(nil, u)
	u.StatusSeq = uint64(len(es))
	return Ops(model, KindUnit, u.Name, es)
}

// NewMachine is NewUnit for a machine.
func NewMachine(model string, m *entity.Machine) ([]store.Op, error) {
	es := MachineEntries(nil, m)
	m.StatusSeq = uint64(len(es))
	return Ops(model, KindMachine, m.ID, es)
}

// Query selects entries.
type Query struct {
	// Types keeps entries of these types; empty keeps all.
	Types []string
	// From keeps entries at or after this time; zero keeps all.
	From time.Time
	// Last keeps the newest Last entries; zero keeps all.
	Last int
}

// Select returns the entries of es matching q, oldest first (by sequence,
// which is commit order). es may be in any order (ring slots are not).
func Select(es []Entry, q Query) []Entry {
	out := slices.Clone(es)
	slices.SortFunc(out, func(a, b Entry) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	out = slices.DeleteFunc(out, func(e Entry) bool {
		return (len(q.Types) > 0 && !slices.Contains(q.Types, e.Type)) || (!q.From.IsZero() && e.Since.Before(q.From))
	})
	if q.Last > 0 && len(out) > q.Last {
		out = out[len(out)-q.Last:]
	}
	return out
}

// Types returns the entry types of a `--type` value for an entity kind:
// "unit" (a unit's default) is its workload and agent statuses; a
// machine's default is its instance and agent statuses. ok is false for a
// type that does not apply to the kind.
func Types(kind, typ string) (types []string, ok bool) {
	switch kind {
	case KindUnit:
		switch typ {
		case "", "unit":
			return []string{Workload, JujuUnit}, true
		case Workload, JujuUnit:
			return []string{typ}, true
		}
	case KindMachine:
		switch typ {
		case "":
			return []string{Machine, JujuMachine}, true
		case Machine, JujuMachine:
			return []string{typ}, true
		}
	}
	return nil, false
}
