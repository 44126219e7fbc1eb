package watchhub

import (
	"errors"
	"fmt"
)

// ErrCompacted ends a subscription whose resume revision is older than the
// store's compacted history: the changes in between are gone. The caller
// must relist (read the state at some revision R) and subscribe again from
// R. The error returned is a *CompactedError, which matches ErrCompacted
// with errors.Is and carries the compact revision.
var ErrCompacted = errors.New("watchhub: revision has been compacted; relist and resubscribe from the relist's revision")

// ErrSlowSubscriber ends a subscription whose reader fell more than its
// buffer behind the live stream. Every event queued before the overflow is
// still returned by Next; the caller resubscribes from the revision of the
// last event it received.
var ErrSlowSubscriber = errors.New("watchhub: subscriber fell too far behind; resubscribe from the last revision received")

// ErrStopped ends every subscription when the hub stops, and is returned by
// Subscribe once it has stopped. The caller resubscribes from the last
// revision it received, on a running hub.
var ErrStopped = errors.New("watchhub: hub stopped; resubscribe from the last revision received")

// ErrClosed is returned by Next after the subscription was closed by its
// owner (Close, or the end of the context given to Subscribe).
var ErrClosed = errors.New("watchhub: subscription closed")

// CompactedError is the error ending a subscription that asked for history
// etcd no longer has. It matches ErrCompacted.
type CompactedError struct {
	// From is the revision the subscription asked to resume after.
	From int64
	// CompactRevision is the oldest revision etcd still holds history for.
	// A relist reads state at a revision at or after it.
	CompactRevision int64
}

func (e *CompactedError) Error() string {
	return fmt.Sprintf("watchhub: cannot resume after revision %d: history is compacted up to revision %d; relist and resubscribe from the relist's revision", e.From, e.CompactRevision)
}

// Is makes errors.Is(err, ErrCompacted) hold.
func (e *CompactedError) Is(target error) bool { return target == ErrCompacted }
