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
	ring    []*apipb.LogRecord // guarded by mu; fixed size cap
	head, n int                // guarded by mu; oldest at ring[head], n held
	first   uint64             // guarded by mu; id of the oldest held record
	dropped uint64             // guarded by mu; not yet reported
	total   uint64             // guarded by mu; ever dropped
}

// NewBuffer returns a buffer that keeps at most capacity records (zero
// or less means 1000).
func NewBuffer(capacity int) *Buffer {
	if capacity <= 0 {
		capacity = 1000
	}
	return &Buffer{cap: capacity, ring: make([]*apipb.LogRecord, capacity), ready: make(chan struct{}, 1), first: 1}
}

// Append adds a record, discarding the oldest one when full.
func (b *Buffer) Append(r *apipb.LogRecord) {
	b.mu.Lock()
	if b.n == b.cap {
		b.popLocked(1)
		b.dropped++
		b.total++
	}
	b.ring[(b.head+b.n)%b.cap] = r
	b.n++
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
	n := min(max, b.n)
	recs := make([]*apipb.LogRecord, n)
	for i := range recs {
		recs[i] = b.ring[(b.head+i)%b.cap]
	}
	return Batch{Records: recs, Dropped: b.dropped, first: b.first, last: b.first + uint64(n) - 1}
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
		b.popLocked(int(batch.last - b.first + 1))
	}
	b.dropped -= min(b.dropped, batch.Dropped)
}

// Stats reports how many records are buffered and how many were ever
// dropped.
func (b *Buffer) Stats() (buffered int, dropped uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n, b.total
}

// popLocked removes the k oldest records.
func (b *Buffer) popLocked(k int) {
	for i := 0; i < k; i++ {
		b.ring[b.head] = nil
		b.head = (b.head + 1) % b.cap
	}
	b.n -= k
	b.first += uint64(k)
}
