package watchhub

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/troupe-dev/troupe/internal/store"
)

// CompactOlderThan compacts the store's history so that only the last
// revisions revisions stay watchable: it compacts at the current revision
// minus revisions. It returns the revision it compacted at, or 0 when there
// was nothing to compact (the store is younger than that, or already
// compacted past it). Subscriptions resuming from before the returned
// revision end with ErrCompacted.
func CompactOlderThan(ctx context.Context, s *store.Store, revisions int64) (int64, error) {
	if revisions < 0 {
		return 0, fmt.Errorf("watchhub: cannot keep a negative number of revisions (%d)", revisions)
	}
	c := s.Client()
	resp, err := c.Get(ctx, store.Prefix, clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("watchhub: cannot read the store's revision before compacting: %w", err)
	}
	target := resp.Header.Revision - revisions
	if target <= 1 {
		return 0, nil
	}
	if _, err := c.Compact(ctx, target, clientv3.WithCompactPhysical()); err != nil {
		if isCompacted(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("watchhub: cannot compact store history at revision %d: %w", target, err)
	}
	return target, nil
}

func isCompacted(err error) bool {
	return errors.Is(err, rpctypes.ErrCompacted)
}
