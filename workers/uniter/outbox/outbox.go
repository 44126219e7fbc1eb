// Package outbox is the unit agent's durable, sequence-numbered queue of
// what it must tell the controller: the committed effects of each hook
// that exited 0 (relation settings, charm state, secret operations).
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

// Outbox is a durable queue in one file. Safe for concurrent use.
type Outbox struct {
	path string
	mu   sync.Mutex
	f    file // guarded by mu; always equal to what is on disk
}

// Open opens (or creates) the outbox at path.
func Open(path string) (*Outbox, error) {
	o := &Outbox{path: path}
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
func (o *Outbox) Stream() string { return o.f.Stream }

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
	next.Entries = append(append([]Entry(nil), o.f.Entries...), e)
	if err := o.saveLocked(next); err != nil {
		return 0, err
	}
	o.f = next
	return e.Seq, nil
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

// Deliver sends every pending entry in order with send and removes each
// once send returns nil. It stops at the first error, which it returns;
// the entries from that one on stay queued.
func (o *Outbox) Deliver(send func(stream string, e Entry) error) error {
	for _, e := range o.Pending() {
		if err := send(o.Stream(), e); err != nil {
			return err
		}
		if err := o.Remove(e.Seq); err != nil {
			return err
		}
	}
	return nil
}
