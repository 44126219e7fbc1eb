package logsender

import (
	"sync"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

// Buffer is a bounded queue of log records. Its methods are safe for
// concurrent use and never block on IO.
type Buffer struct {
	cap   int
	ready chan struct{} // signalled (non-blocking) on each Append

	mu      sync.Mutex
	recs    []*apipb.LogRecord // guarded by mu; oldest first
	first   uint64             // guarded by mu; id of recs[0]
	dropped uint64             // guarded by mu; not yet reported
	total   uint64             // guarded by mu; ever dropped
}

// NewBuffer returns a buffer that keeps at most capacity records (zero
// or less means 1000).
func NewBuffer(capacity int) *Buffer {
	if capacity <= 0 {
		capacity = 1000
	}
	return &Buffer{cap: capacity, ready: make(chan struct{}, 1), first: 1}
}

// Append adds a record, discarding the oldest one when full.
func (b *Buffer) Append(r *apipb.LogRecord) {
	b.mu.Lock()
	if len(b.recs) == b.cap {
		b.recs[0] = nil
		b.recs = b.recs[1:]
		b.first++
		b.dropped++
		b.total++
	}
	b.recs = append(b.recs, r)
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// Ready is signalled after an Append; a receiver then calls Take.
func (b *Buffer) Ready() <-chan struct{} { return b.ready }

// Batch is what Take returns: records to send and the position to Ack.
type Batch struct {
	Records []*apipb.LogRecord
	Dropped uint64 // records discarded since the last Ack
	first   uint64 // id of Records[0]
	last    uint64 // id of the last record in Records
}

// Take returns up to max of the oldest records (without removing them)
// and the dropped count not yet acknowledged.
func (b *Buffer) Take(max int) Batch {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(max, len(b.recs))
	return Batch{Records: append([]*apipb.LogRecord(nil), b.recs[:n]...), Dropped: b.dropped, first: b.first, last: b.first + uint64(n) - 1}
}

// Ack removes a batch that the controller accepted: its records and its
// dropped count. Records of the batch that were discarded while it was in
// flight were delivered after all, so they are not counted as dropped.
func (b *Buffer) Ack(batch Batch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(batch.Records) > 0 && b.first > batch.first {
		delivered := min(b.first, batch.last+1) - batch.first
		b.dropped -= min(b.dropped, delivered)
		b.total -= min(b.total, delivered)
	}
	if batch.last >= b.first {
		n := int(batch.last - b.first + 1)
		clear(b.recs[:n])
		b.recs = b.recs[n:]
		b.first += uint64(n)
	}
	b.dropped -= min(b.dropped, batch.Dropped)
}

// Stats reports how many records are buffered and how many were ever
// dropped.
func (b *Buffer) Stats() (buffered int, dropped uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.recs), b.total
}
