package apiserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/task"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/logstore"
)

// The reports a unit agent queues in its outbox besides hook effects
// (workers/uniter/outbox): log lines, action results and action-log
// messages. CommitHook has already skipped an entry it applied before,
// by (stream, seq); each part here is safe to repeat when a commit was
// interrupted before its sequence number was recorded: a finished task
// stays finished, an action-log on a task no longer running is the
// replay of one already stored, and log lines are stored before the
// sequence number (a controller crash in between repeats them, never
// loses them). The workload status goes with the sequence number in one
// unit write (UpdateCharmState.Workload), so it is applied once.

func (s *Server) commitReports(ctx context.Context, tag entity.Tag, req *apipb.CommitHookRequest) error {
	if a := req.ActionLog; a != nil {
		if _, err := s.requireTaskOwner(ctx, req.Unit, a.Id); err != nil {
			return err
		}
		_, err := route[*task.Task](s, tag.Model, model.KindTask, a.Id, &task.Log{Message: a.Message})
		if err != nil && !errors.Is(err, task.ErrNotRunning) {
			return fmt.Errorf("cannot commit action-log of task %s: %w", a.Id, err)
		}
	}
	if a := req.Action; a != nil {
		if _, err := s.requireTaskOwner(ctx, req.Unit, a.Id); err != nil {
			return err
		}
		if _, err := s.finishTask(tag.Model, a.Id, a.Status, a.Message, a.ResultsJson); err != nil {
			return fmt.Errorf("cannot commit the result of task %s: %w", a.Id, err)
		}
	}
	if len(req.Logs) > 0 || req.LogsDropped > 0 {
		recs := outboxLogRecords(logTag(tag), req.Logs, req.LogsDropped, time.Now())
		if _, err := s.cfg.Logs.Append(tag.Model, recs); err != nil {
			return status.Errorf(codes.Unavailable, "cannot store log records: %v", err)
		}
	}
	return nil
}

// outboxLogRecords turns an outbox entry's lines into store records of
// the unit (self): a dropped count first, as one WARNING at the place the
// lines went missing, then the lines.
func outboxLogRecords(self string, in []*apipb.LogRecord, dropped uint64, now time.Time) []logstore.Record {
	out := make([]logstore.Record, 0, len(in)+1)
	if dropped > 0 {
		at := now
		if len(in) > 0 {
			at = time.Unix(0, in[0].TimeUnixNano)
		}
		out = append(out, logstore.Record{Entity: self, Time: at.UTC(), Level: logstore.Warning, Module: "juju.worker.uniter.outbox",
			Message: fmt.Sprintf("%d log lines dropped: the unit's outbox was full while the controller was unreachable", dropped)})
	}
	for _, r := range in {
		lv, err := logstore.ParseLevel(r.Level)
		if err != nil {
			lv = logstore.Info
		}
		out = append(out, logstore.Record{Entity: self, Time: time.Unix(0, r.TimeUnixNano).UTC(), Level: lv, Module: r.Module, Message: r.Message})
	}
	return out
}

// outboxStatus is a queued status-set, stamped with the time the charm
// set it (not the time it arrived).
func outboxStatus(st *apipb.StatusInfo) *entity.Status {
	if st == nil {
		return nil
	}
	out := &entity.Status{Current: st.Current, Message: st.Message}
	if st.SinceUnixNano != 0 {
		out.Since = time.Unix(0, st.SinceUnixNano).UTC()
	}
	return out
}
