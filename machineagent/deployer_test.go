package machineagent

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestWatchAgain: the deployer waits out an unreachable or throttling
// controller (so its unit agents keep running) and stops on anything
// else, wrapped or not.
func TestWatchAgain(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{status.Error(codes.Unavailable, "connection refused"), true},
		{fmt.Errorf("machine watch stopped: %w", status.Error(codes.Unavailable, "transport closing")), true},
		{status.Error(codes.DeadlineExceeded, "deadline"), true},
		{fmt.Errorf("machine watch stopped: %w", status.Error(codes.ResourceExhausted,
			"login throttled: the controller is limiting agent logins; retry after 120ms")), true},
		{status.Error(codes.ResourceExhausted, "message larger than max"), false},
		{status.Error(codes.Unauthenticated, "invalid credentials"), false},
		{status.Error(codes.PermissionDenied, "permission denied"), false},
		{errors.New("cannot write agent config"), false},
	}
	for _, c := range cases {
		if got := watchAgain(c.err); got != c.want {
			t.Errorf("watchAgain(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
