package store

import (
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
)

// Unavailable reports whether err is the store failing to serve at all —
// etcd stopped (the controller is shutting down), without a leader, or
// timed out — rather than answering: the caller may retry later, and an
// API client must be told Unavailable, not that its request was wrong or
// its credentials invalid.
func Unavailable(err error) bool {
	var ee rpctypes.EtcdError
	return errors.As(err, &ee) && ee.Code() == codes.Unavailable
}
