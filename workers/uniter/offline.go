package uniter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/juju/clock"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/atomicfile"
	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// Offline operation. When the controller cannot be reached the uniter
// does not stop (which would stop update-status and leave the unit's
// workload unobserved): it goes on deciding from the last snapshot it
// read — kept in state/snapshot.pb so an agent restarted while offline
// has it too — but runs only what cannot depend on fresh controller data,
// update-status hooks (and a local leadership resignation). Their commits queue in the outbox, behind the ones
// not yet delivered; delivery is retried every loop and, once it
// succeeds, everything queued arrives in order, once (outbox, seq).

// unreachable reports whether err means the controller could not be
// reached, as opposed to a refusal the uniter must act on.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	s, ok := status.FromError(err)
	if !ok {
		var se interface{ GRPCStatus() *status.Status }
		if !errors.As(err, &se) {
			return false
		}
		s = se.GRPCStatus()
	}
	return s.Code() == codes.Unavailable || s.Code() == codes.DeadlineExceeded
}

// allowedOffline is the pure decision of which operations run while the
// controller is unreachable.
// Resigning leadership runs no hook and is local: offline the lease
// cannot be renewed, so the unit must stop acting as leader.
func allowedOffline(op resolver.Op) bool {
	return op.Kind == resolver.OpResignLeadership ||
		op.Kind == resolver.OpRunHook && op.Hook.Kind == hook.UpdateStatus
}

func (u *Uniter) snapshotCachePath() string {
	return filepath.Join(u.cfg.UnitDir, "state", "snapshot.pb")
}

// saveSnapshot keeps s for offline decisions; a failure only costs the
// ability to run offline after a restart, so it is logged.
func (u *Uniter) saveSnapshot(s *apipb.UnitSnapshotResult) {
	data, err := proto.Marshal(s)
	if err == nil {
		err = atomicfile.Write(u.snapshotCachePath(), data, 0o600)
	}
	if err != nil {
		u.cfg.Logger.Warn("cannot keep the unit snapshot for offline operation", "unit", u.cfg.Unit, "err", err)
	}
}

// cachedSnapshot is the last snapshot read: in memory, else from disk.
func (u *Uniter) cachedSnapshot() (*apipb.UnitSnapshotResult, error) {
	if u.snap != nil {
		return u.snap, nil
	}
	data, err := os.ReadFile(u.snapshotCachePath())
	if err != nil {
		return nil, fmt.Errorf("no unit snapshot kept for offline operation: %w", err)
	}
	s := &apipb.UnitSnapshotResult{}
	if err := proto.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("kept unit snapshot %s is corrupt: %w", u.snapshotCachePath(), err)
	}
	return s, nil
}

// offlineRetry is how often an offline uniter retries delivery and its
// unit watch.
const offlineRetry = 2 * time.Second

// offlineTick fires after offlineRetry while offline, never otherwise.
func offlineTick(c clock.Clock, offline bool) <-chan time.Time {
	if !offline {
		return nil
	}
	return c.After(offlineRetry)
}
