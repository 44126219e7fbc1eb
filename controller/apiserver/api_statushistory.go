package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/statushistory"
	"github.com/troupe-dev/troupe/internal/store"
)

// StatusHistory implements apipb.ControllerServer: the entries the unit or
// machine actor recorded with its status changes (internal/statushistory),
// filtered by type, time and count.
func (s *Server) StatusHistory(ctx context.Context, req *apipb.StatusHistoryRequest) (*apipb.StatusHistoryResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	kind, key := statushistory.KindUnit, entity.UnitKey(m.UUID, req.Entity)
	switch {
	case entity.IsMachineID(req.Entity):
		kind, key = statushistory.KindMachine, entity.MachineKey(m.UUID, req.Entity)
	case !isUnitName(req.Entity):
		return nil, invalid(fmt.Errorf("invalid entity %q: expected a unit (<application>/<number>) or a machine id", req.Entity))
	}
	types, ok := statushistory.Types(kind, req.Type)
	if !ok {
		return nil, invalid(fmt.Errorf("type %q does not apply to %s %s: use unit, workload or juju-unit for a unit, machine or juju-machine for a machine", req.Type, kind, req.Entity))
	}
	// Only existence matters: a document that does not decode still has
	// its history (which may say how it got there); a failed read fails
	// the List below.
	var raw json.RawMessage
	if _, err := s.cfg.Store.Get(ctx, key, &raw); errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s %q not found in model %q; see `troupe status`", kind, req.Entity, m.Name)
	}
	kvs, _, err := s.cfg.Store.List(ctx, statushistory.EntityPrefix(m.UUID, kind, req.Entity))
	if err != nil {
		return nil, err
	}
	var es []statushistory.Entry
	for _, kv := range kvs {
		var e statushistory.Entry
		if err := store.Decode(kv, &e); err != nil {
			s.logger().Error("skipping undecodable status history entry", "key", kv.Key, "err", err)
			continue
		}
		es = append(es, e)
	}
	q := statushistory.Query{Types: types, Last: int(req.Last)}
	if req.FromUnixNano != 0 {
		q.From = time.Unix(0, req.FromUnixNano)
	}
	res := &apipb.StatusHistoryResult{}
	for _, e := range statushistory.Select(es, q) {
		res.Entries = append(res.Entries, &apipb.StatusHistoryEntry{Seq: e.Seq, Type: e.Type, Status: e.Status,
			Message: e.Message, SinceUnixNano: e.Since.UnixNano()})
	}
	return res, nil
}

func isUnitName(s string) bool {
	_, _, ok := entity.SplitUnitName(s)
	return ok
}
