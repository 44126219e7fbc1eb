package apiserver

import (
	"bytes"
	"encoding/json"

	"github.com/troupe-dev/troupe/internal/watchhub"
)

// docChanges drops the events of chosen keys whose documents changed only
// in fields the watcher does not act on. A unit agent re-reads its whole
// snapshot on every notification, and without this its own status, commit
// and status-history writes and its leader's lease renewals (every 30 s,
// on the application document every unit of it watches) each made every
// affected agent re-read: N units renewing and reporting cost N² reads.
// The first event of a key on a stream, a deletion and an undecodable
// document always pass. One per stream; used only by the stream's
// goroutine.
type docChanges struct {
	ignore map[string][]string // key -> top-level JSON fields that do not count
	last   map[string][]byte   // key -> the document without them, as last kept
}

func newDocChanges(ignore map[string][]string) *docChanges {
	return &docChanges{ignore: ignore, last: map[string][]byte{}}
}

// Fields of a unit document only the unit itself changes, and only by
// reporting: status, status history, hook commits (outbox sequence, charm
// state, opened ports).
var unitReportFields = []string{"workload", "agent", "status-seq", "commit-seq", "commit-stream", "charm-state", "open-ports"}

// Fields of an application document a unit agent takes from elsewhere or
// not at all: the lease's expiry (renewals; a change of leader still
// notifies), the application status and workload version its leader sets.
var applicationReportFields = []string{"lease-expiry", "status", "workload-version"}

func (c *docChanges) keep(ev watchhub.Event) bool {
	fields, ok := c.ignore[ev.Key]
	if !ok || ev.IsBaseline() {
		return true
	}
	if ev.Deleted {
		delete(c.last, ev.Key)
		return true
	}
	sig, err := significant(ev.Value, fields)
	if err != nil {
		delete(c.last, ev.Key)
		return true
	}
	if prev, seen := c.last[ev.Key]; seen && bytes.Equal(prev, sig) {
		return false
	}
	c.last[ev.Key] = sig
	return true
}

// significant is doc without fields, re-encoded canonically (encoding/json
// sorts map keys).
func significant(doc []byte, fields []string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	for _, f := range fields {
		delete(m, f)
	}
	return json.Marshal(m)
}
