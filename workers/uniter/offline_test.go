package uniter

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

func TestUnreachable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("plain"), false},
		{status.Error(codes.Unavailable, "down"), true},
		{fmt.Errorf("cannot deliver commit 3: %w", status.Error(codes.Unavailable, "down")), true},
		{status.Error(codes.DeadlineExceeded, "slow"), true},
		{status.Error(codes.PermissionDenied, "no"), false},
		{fmt.Errorf("cannot read unit state: %w", status.Error(codes.NotFound, "gone")), false},
	} {
		if got := unreachable(c.err); got != c.want {
			t.Errorf("unreachable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestAllowedOffline(t *testing.T) {
	for _, c := range []struct {
		op   resolver.Op
		want bool
	}{
		{resolver.Op{Kind: resolver.OpRunHook, Hook: hook.Info{Kind: hook.UpdateStatus}}, true},
		{resolver.Op{Kind: resolver.OpResignLeadership}, true},
		{resolver.Op{Kind: resolver.OpRunHook, Hook: hook.Info{Kind: hook.ConfigChanged}}, false},
		{resolver.Op{Kind: resolver.OpRunAction, ActionID: "1"}, false},
		{resolver.Op{Kind: resolver.OpDeploy}, false},
	} {
		if got := allowedOffline(c.op); got != c.want {
			t.Errorf("allowedOffline(%v) = %v, want %v", c.op, got, c.want)
		}
	}
}
