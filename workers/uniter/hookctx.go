package uniter

import (
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/hookcmds"
)

// GoalState is goal-state: the controller decides it (UnitGoalState).
func (b *backend) GoalState() (hookcmds.GoalState, error) {
	res, err := b.u.cfg.API.UnitGoalState(b.ctx(), &apipb.UnitGoalStateRequest{Unit: b.u.cfg.Unit})
	if err != nil {
		return hookcmds.GoalState{}, err
	}
	gs := hookcmds.GoalState{Units: goalStatuses(res.Units), Relations: map[string]map[string]hookcmds.GoalStateStatus{}}
	for _, r := range res.Relations {
		gs.Relations[r.Endpoint] = goalStatuses(r.Entries)
	}
	return gs, nil
}

func goalStatuses(m map[string]*apipb.GoalStatus) map[string]hookcmds.GoalStateStatus {
	out := make(map[string]hookcmds.GoalStateStatus, len(m))
	for k, g := range m {
		st := hookcmds.GoalStateStatus{Status: g.GetStatus()}
		if ms := g.GetSinceUnixMs(); ms != 0 {
			t := time.UnixMilli(ms).UTC()
			st.Since = &t
		}
		out[k] = st
	}
	return out
}

// CloudSpec is credential-get: refused with hookcmds.ErrNoCredential
// unless the application is trusted.
func (b *backend) CloudSpec() (map[string]any, error) {
	res, err := b.u.cfg.API.UnitCloudSpec(b.ctx(), &apipb.UnitCloudSpecRequest{Unit: b.u.cfg.Unit})
	if status.Code(err) == codes.FailedPrecondition {
		return nil, hookcmds.ErrNoCredential
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read cloud spec: %w", err)
	}
	spec := map[string]any{}
	if err := json.Unmarshal(res.SpecJson, &spec); err != nil {
		return nil, fmt.Errorf("cannot decode cloud spec: %w", err)
	}
	return spec, nil
}
