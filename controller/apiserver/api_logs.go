package apiserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/logstore"
	"github.com/troupe-dev/troupe/internal/store"
)

// logTag is the display tag of an agent in log records.
func logTag(t entity.Tag) string {
	if t.Kind == entity.KindUnit {
		return "unit-" + strings.ReplaceAll(t.Name, "/", "-")
	}
	return t.Kind + "-" + t.Name
}

// SendLogs implements apipb.ControllerServer.
func (s *Server) SendLogs(ctx context.Context, req *apipb.SendLogsRequest) (*apipb.SendLogsResult, error) {
	caller := callerFrom(ctx)
	if caller.Kind != entity.KindUnit && caller.Kind != entity.KindMachine {
		return nil, errPerm
	}
	self := logTag(caller)
	allowed := map[string]bool{self: true}
	for _, r := range req.Records {
		if who := r.Entity; who != "" && !allowed[who] {
			ok, err := mayLogFor(caller, who, func(unit string) (string, error) { return s.unitMachine(ctx, caller.Model, unit) })
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, status.Errorf(codes.PermissionDenied, "%s may not send log records for %s", self, who)
			}
			allowed[who] = true
		}
	}
	truncateLogLines(req.Records)
	recs := storedRecords(self, req.Records, req.Dropped, time.Now())
	if _, err := s.cfg.Logs.Append(caller.Model, recs); err != nil {
		return nil, fmt.Errorf("cannot store log records: %w", err)
	}
	return &apipb.SendLogsResult{}, nil
}

// storedRecords turns an agent's records into store records: no entity
// means the sender (self), an unknown level INFO; a dropped count becomes
// one WARNING record of the sender, after the batch.
func storedRecords(self string, in []*apipb.LogRecord, dropped uint64, now time.Time) []logstore.Record {
	out := make([]logstore.Record, 0, len(in)+1)
	for _, r := range in {
		who := r.Entity
		if who == "" {
			who = self
		}
		lv, err := logstore.ParseLevel(r.Level)
		if err != nil {
			lv = logstore.Info
		}
		out = append(out, logstore.Record{Entity: who, Time: time.Unix(0, r.TimeUnixNano).UTC(), Level: lv, Module: r.Module, Message: r.Message})
	}
	if dropped > 0 {
		out = append(out, logstore.Record{Entity: self, Time: now.UTC(), Level: logstore.Warning, Module: "juju.worker.logsender",
			Message: fmt.Sprintf("%d log records dropped: the agent's log buffer was full while the controller was unreachable", dropped)})
	}
	return out
}

// mayLogFor decides whether the caller may send records for the log tag
// who: an agent for itself, a machine agent also for the units assigned
// to it (machineOf returns a unit's machine, "" when there is no such
// unit).
func mayLogFor(caller entity.Tag, who string, machineOf func(unit string) (string, error)) (bool, error) {
	if who == logTag(caller) {
		return true, nil
	}
	if caller.Kind != entity.KindMachine {
		return false, nil
	}
	t, err := entity.ParseTag(who + "@" + caller.Model)
	if err != nil || t.Kind != entity.KindUnit {
		return false, nil
	}
	m, err := machineOf(t.Name)
	if err != nil {
		return false, err
	}
	return m != "" && m == caller.Name, nil
}

// unitMachine returns the machine a unit is assigned to, "" when the unit
// does not exist.
func (s *Server) unitMachine(ctx context.Context, model, unit string) (string, error) {
	var u entity.Unit
	if _, err := s.cfg.Store.Get(ctx, entity.UnitKey(model, unit), &u); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return "", fmt.Errorf("cannot read unit %s: %w", unit, err)
	}
	return u.Machine, nil
}

// DebugLog implements apipb.ControllerServer.
func (s *Server) DebugLog(req *apipb.DebugLogRequest, stream apipb.Controller_DebugLogServer) error {
	ctx := stream.Context()
	if err := requireUser(ctx); err != nil {
		return err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return err
	}
	f := logstore.Filter{Include: req.Include, Exclude: req.Exclude, IncludeModule: req.IncludeModule, ExcludeModule: req.ExcludeModule}
	if req.Level != "" {
		if f.MinLevel, err = logstore.ParseLevel(req.Level); err != nil {
			return invalid(err)
		}
	}
	q := logstore.NewQuery(f, req.Replay, req.NoTail, req.HasLimit, int(req.Lines), int(req.Limit))
	err = s.cfg.Logs.Stream(ctx, m.UUID, q, func(r logstore.Record) error {
		return stream.Send(&apipb.LogRecord{Entity: r.Entity, TimeUnixNano: r.Time.UnixNano(), Level: r.Level.String(),
			Module: r.Module, Message: r.Message, Seq: r.Seq, ModelUuid: r.Model})
	})
	if errors.Is(err, logstore.ErrClosed) {
		return status.Error(codes.Unavailable, "the controller is shutting down; run debug-log again once it is back")
	}
	return err
}
