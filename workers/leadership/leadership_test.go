package leadership

import (
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

func TestNextClaim(t *testing.T) {
	const retry = 5 * time.Second
	for _, c := range []struct {
		what string
		res  *apipb.ClaimLeadershipResult
		u    float64
		want time.Duration
	}{
		{"claim failed", nil, 0.5, retry},
		{"leader renews at half its lease", &apipb.ClaimLeadershipResult{Held: true, ExpiresInMs: 60000}, 0.5, Guarantee},
		{"refused: claim when the leader's lease ends", &apipb.ClaimLeadershipResult{Leader: "a/0", ExpiresInMs: 42000}, 0, 42 * time.Second},
		{"spread over a second", &apipb.ClaimLeadershipResult{Leader: "a/0", ExpiresInMs: 42000}, 0.5, 42*time.Second + 500*time.Millisecond},
		{"capped at a lease", &apipb.ClaimLeadershipResult{Leader: "a/0", ExpiresInMs: 10 * 60000}, 0.99, 2*Guarantee + claimSpread},
		{"no expiry from the controller", &apipb.ClaimLeadershipResult{Leader: "a/0"}, 0.5, retry},
	} {
		if got := NextClaim(c.res, retry, c.u); got != c.want {
			t.Errorf("%s: NextClaim = %s, want %s", c.what, got, c.want)
		}
	}
}
