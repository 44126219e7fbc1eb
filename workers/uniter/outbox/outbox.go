// Package outbox is the unit agent's durable, sequence-numbered queue of
// what it must tell the controller: the committed effects of each hook
// that exited 0 (relation settings, charm state, secret operations), and
// everything else the unit reports that must survive a dropped link or an
// agent restart: workload status-set, juju-log and hook output lines,
// action results and action-log messages. One queue, so all of it arrives
// in the order it happened, once.
//
//	hook exits 0 ─▶ Append (fsynced, seq N) ─▶ hook recorded done
//	                    │
//	                    ▼
//	          Deliver: send oldest ─▶ controller applies (idempotent, by
//	          stream + seq) ─▶ ack ─▶ Remove (fsynced) ─▶ next
//
// An entry is durable before the hook is recorded as done, so a crash at
// any instant loses no committed hook's effects; the controller ignores a
// sequence number it already applied for the same stream, so an entry
// delivered twice (crash between the controller's ack and Remove) is
// applied once. Entries are delivered strictly in order. The stream id is
// random per outbox file: a unit whose local state was wiped starts a new
// stream, which the controller accepts from sequence 1 again.
//
// Bound. The queue holds at most Limit entries. When an Append would go
// past it, the oldest log-only entries (no hook effects, status or action
// in them) not yet handed to the sender are discarded, and the number of
// lines they held is carried by the entry that follows them (LogsDropped),
// so the controller records "N log lines dropped" where they were. Hook
// commits, status changes and action results are never discarded: with
// none but those queued, the queue grows past Limit.
//
// Who imports it: the uniter. It does no network IO; the caller sends.
package outbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/troupe-dev/troupe/internal/atomicfile"
)

// Entry is one committed hook's effects.
type Entry struct {
	Seq  uint64 `json:"seq"`
	Hook string `json:"hook"`
	// Relations holds per relation id the unit's and (leader only) the
	// application's settings changes; an empty value deletes a key.
	Relations   []RelationChange  `json:"relations,omitempty"`
	StateSet    map[string]string `json:"state-set,omitempty"`
	StateDelete []string          `json:"state-delete,omitempty"`
	// OpenPorts and ClosePorts are port ranges ("80/tcp") by endpoint.
	OpenPorts  map[string][]string `json:"open-ports,omitempty"`
	ClosePorts map[string][]string `json:"close-ports,omitempty"`
	// Secrets are the hook's secret operations in order (create, update,
	// grant, revoke, remove; track for secret-get reads; notify for the
	// secret hook that ran).
	Secrets []SecretChange `json:"secrets,omitempty"`
	// AddStorage is the hook's storage-add counts by storage name.
	AddStorage map[string]int `json:"add-storage,omitempty"`
	// Appended is when Append stored the entry (unix nanoseconds; zero in
	// outboxes written before it was recorded). Metrics report the age
	// of the oldest entry from it.
	Appended int64 `json:"appended,omitempty"`

	// Workload is a status-set of the unit's workload status.
	Workload *Status `json:"workload,omitempty"`
	// Logs are log lines (juju-log, hook output) for debug-log.
	Logs []LogLine `json:"logs,omitempty"`
	// LogsDropped counts the log lines of entries discarded before this
	// one because the queue was full.
	LogsDropped uint64 `json:"logs-dropped,omitempty"`
	// Action finishes a task; ActionLog is an action-log message.
	Action    *ActionResult `json:"action,omitempty"`
	ActionLog *ActionLog    `json:"action-log,omitempty"`
}

// Status is a workload status set by the charm.
type Status struct {
	Current string `json:"current"`
	Message string `json:"message,omitempty"`
}

// LogLine is one log record.
type LogLine struct {
	Time    int64  `json:"time"` // unix nanoseconds
	Level   string `json:"level"`
	Module  string `json:"module"`
	Message string `json:"message"`
}

// ActionResult is a task's outcome.
type ActionResult struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	Results []byte `json:"results,omitempty"` // JSON object
}

// ActionLog is an action-log message of a running task.
type ActionLog struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// LogOnly reports whether e carries nothing but log lines, so it may be
// discarded when the queue is full.
func (e Entry) LogOnly() bool {
	return len(e.Relations) == 0 && len(e.StateSet) == 0 && len(e.StateDelete) == 0 &&
		len(e.OpenPorts) == 0 && len(e.ClosePorts) == 0 && len(e.Secrets) == 0 &&
		e.Workload == nil && e.Action == nil && e.ActionLog == nil
}

// SecretChange is one secret operation; see apipb.SecretChange.
type SecretChange struct {
	Kind        string            `json:"kind"`
	URI         string            `json:"uri"`
	Label       *string           `json:"label,omitempty"`
	Description *string           `json:"description,omitempty"`
	Expire      string            `json:"expire,omitempty"`
	Rotate      string            `json:"rotate,omitempty"`
	Owner       string            `json:"owner,omitempty"`
	Content     map[string]string `json:"content,omitempty"`
	RelationID  int               `json:"relation-id"`
	Application string            `json:"application,omitempty"`
	Unit        string            `json:"unit,omitempty"`
	Revision    int               `json:"revision,omitempty"`
	Hook        string            `json:"hook,omitempty"` // notify
}

// RelationChange is one relation's settings changes.
type RelationChange struct {
	RelationID int               `json:"relation-id"`
	Unit       map[string]string `json:"unit,omitempty"`
	App        map[string]string `json:"app,omitempty"`
}

type file struct {
	Stream  string  `json:"stream"`
	NextSeq uint64  `json:"next-seq"`
	Entries []Entry `json:"entries"`
}

// DefaultLimit is the queue bound when none is configured.
const DefaultLimit = 4096

// Outbox is a durable queue in one file. Safe for concurrent use.
type Outbox struct {
	path   string
	limit  int
	stream string // o.f.Stream, fixed at Open (read without mu)
	// deliverMu serialises Deliver, so an entry is in flight at most once
	// at a time and strictly in order.
	deliverMu sync.Mutex
	mu        sync.Mutex
	f         file // guarded by mu; always equal to what is on disk
	// handed is the highest seq handed to a sender since Open; entries up
	// to it may have reached the controller, so they are never discarded.
	handed  uint64 // guarded by mu
	dropped uint64 // guarded by mu; log lines ever discarded since Open
}

// Open opens (or creates) the outbox at path, bounded by DefaultLimit.
func Open(path string) (*Outbox, error) { return OpenLimit(path, DefaultLimit) }

// OpenLimit opens (or creates) the outbox at path, holding at most limit
// entries (see Bound in the package doc; zero or less means DefaultLimit).
func OpenLimit(path string, limit int) (*Outbox, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	o := &Outbox{path: path, limit: limit}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		o.f = file{Stream: hex.EncodeToString(b), NextSeq: 1}
		if err := o.saveLocked(o.f); err != nil {
			return nil, err
		}
		o.stream = o.f.Stream
		return o, nil
	case err != nil:
		return nil, fmt.Errorf("cannot read outbox: %w", err)
	}
	if err := json.Unmarshal(data, &o.f); err != nil {
		return nil, fmt.Errorf("outbox %s is corrupt (%v); it holds hook commits not yet delivered, so inspect it before removing it", path, err)
	}
	if o.f.Stream == "" || o.f.NextSeq == 0 {
		return nil, fmt.Errorf("outbox %s is corrupt: no stream or sequence", path)
	}
	o.stream = o.f.Stream
	return o, nil
}

func (o *Outbox) saveLocked(f file) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(o.path, data, 0o600); err != nil {
		return fmt.Errorf("cannot write outbox: %w", err)
	}
	return nil
}

// Stream is the outbox's stream id.
func (o *Outbox) Stream() string { return o.stream }

// Append stores e durably with the next sequence number, which it returns.
func (o *Outbox) Append(e Entry) (uint64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	next := o.f
	e.Seq = next.NextSeq
	if e.Appended == 0 {
		e.Appended = time.Now().UnixNano()
	}
	next.NextSeq++
	kept, carried, dropped := MakeRoom(o.f.Entries, o.handed, o.limit)
	e.LogsDropped += carried
	next.Entries = append(kept, e)
	if err := o.saveLocked(next); err != nil {
		return 0, err
	}
	o.f = next
	o.dropped += dropped
	return e.Seq, nil
}

// Dropped is how many log lines were discarded since Open.
func (o *Outbox) Dropped() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dropped
}

// MakeRoom is the pure bound decision, run before one more entry is
// appended to pending: while pending plus the new entry exceed limit, the
// oldest log-only entry above handed (handed entries may already have
// reached the controller) is discarded, its lines and its own
// LogsDropped moved onto the entry after it. It returns the entries to
// keep (a new slice), the count the new entry must carry (lines of
// discarded entries that were last in the queue) and how many lines were
// discarded in all. Entries that are not log-only are never discarded.
func MakeRoom(pending []Entry, handed uint64, limit int) (kept []Entry, carried, dropped uint64) {
	kept = append([]Entry(nil), pending...)
	for len(kept)+1 > limit {
		i := slices.IndexFunc(kept, func(e Entry) bool { return e.Seq > handed && e.LogOnly() })
		if i < 0 {
			break // only commits, statuses, results or handed entries: keep all
		}
		lines := uint64(len(kept[i].Logs))
		n := lines + kept[i].LogsDropped
		dropped += lines
		if i+1 < len(kept) {
			kept[i+1].LogsDropped += n
		} else {
			carried += n
		}
		kept = slices.Delete(kept, i, i+1)
	}
	return kept, carried, dropped
}

// Pending returns the undelivered entries, oldest first.
func (o *Outbox) Pending() []Entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Entry(nil), o.f.Entries...)
}

// Oldest returns how many entries are pending and when the oldest was
// appended (zero when none is pending or its time is unknown).
func (o *Outbox) Oldest() (pending int, appended time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.f.Entries) == 0 || o.f.Entries[0].Appended == 0 {
		return len(o.f.Entries), time.Time{}
	}
	return len(o.f.Entries), time.Unix(0, o.f.Entries[0].Appended)
}

// Remove drops every entry up to and including seq, durably.
func (o *Outbox) Remove(seq uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	next := o.f
	next.Entries = nil
	for _, e := range o.f.Entries {
		if e.Seq > seq {
			next.Entries = append(next.Entries, e)
		}
	}
	if len(next.Entries) == len(o.f.Entries) {
		return nil
	}
	if err := o.saveLocked(next); err != nil {
		return err
	}
	o.f = next
	return nil
}

// removeEvery is how many acknowledged entries Deliver removes per file
// write while draining a long queue.
const removeEvery = 64

// Deliver sends every pending entry in order with send, entries appended
// meanwhile too, and removes the acknowledged ones (send returned nil),
// durably, at least every removeEvery entries and before it returns. It
// stops at the first error, which it returns; the entries from that one
// on stay queued. An entry acknowledged but not yet removed when the
// agent dies is sent again after the restart: the controller ignores a
// (stream, seq) it applied, so it is applied once. Calls are serialised.
func (o *Outbox) Deliver(send func(stream string, e Entry) error) error {
	o.deliverMu.Lock()
	defer o.deliverMu.Unlock()
	var acked, removed uint64
	flush := func() error {
		if acked == removed {
			return nil
		}
		removed = acked
		return o.Remove(acked)
	}
	for {
		e, ok := o.hand(acked)
		if !ok {
			return flush()
		}
		if err := send(o.Stream(), e); err != nil {
			if ferr := flush(); ferr != nil {
				return errors.Join(err, ferr)
			}
			return err
		}
		acked = e.Seq
		if acked-removed >= removeEvery {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// hand returns the oldest entry above after and records it as handed to
// the sender, so MakeRoom leaves it alone.
func (o *Outbox) hand(after uint64) (Entry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.f.Entries {
		if e.Seq > after {
			o.handed = max(o.handed, e.Seq)
			return e, true
		}
	}
	return Entry{}, false
}
