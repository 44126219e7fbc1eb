package uniter

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/workers/logsender"
	"github.com/troupe-dev/troupe/workers/uniter/outbox"
)

// Reports. Everything the unit tells the controller that must not be lost
// while the link is down goes through the outbox, in one order with the
// hook commits: workload status-set, juju-log and hook output lines,
// action results and action-log messages (outbox.Entry). A status-set is
// delivered before the tool returns when the controller answers within
// reportWait (not tried when the last delivery found it unreachable), so
// online it is as immediate as Juju's; log lines are
// delivered in the background (the deliverer goroutine), so a chatty
// hook is not slowed down by round trips. Offline they all wait in the
// outbox and the run loop delivers them, in order, once the link is back.
// Agent status (idle, executing, error) is not in the outbox: it
// describes the agent's present, which the controller shows as
// disconnected meanwhile. It is sent in the background, and in order
// with the outbox: delivery first flushes it (agentstatus.go).

// reportWait bounds a status-set's synchronous delivery attempt.
const reportWait = 5 * time.Second

// report queues e in the outbox (durably) and asks the deliverer to send
// it.
func (u *Uniter) report(e outbox.Entry) error {
	if _, err := u.outbox.Append(e); err != nil {
		return fmt.Errorf("cannot queue %s report: %w", e.Hook, err)
	}
	u.kick()
	return nil
}

// reportNow queues e and tries to deliver the outbox up to it at once; an
// unreachable controller leaves it queued, which is not an error.
func (u *Uniter) reportNow(e outbox.Entry) error {
	if u.linkDown.Load() { // known offline: do not wait for it
		return u.report(e)
	}
	if _, err := u.outbox.Append(e); err != nil {
		return fmt.Errorf("cannot queue %s report: %w", e.Hook, err)
	}
	ctx, cancel := context.WithTimeout(u.ctx, reportWait)
	defer cancel()
	if err := u.deliver(ctx); err != nil && !unreachable(err) && u.ctx.Err() == nil {
		return err
	}
	return nil
}

func (u *Uniter) kick() {
	select {
	case u.kicks <- struct{}{}:
	default:
	}
}

// deliverer sends the outbox whenever a report was queued, until ctx is
// done. Failures are left to the run loop, which delivers before each
// decision and stops on an error that is not an unreachable controller.
func (u *Uniter) deliverer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.kicks:
		}
		if err := u.deliver(ctx); err != nil && !unreachable(err) && ctx.Err() == nil {
			u.cfg.Logger.Debug("reports not delivered; the run loop retries", "unit", u.cfg.Unit, "err", err)
		}
	}
}

// logLine is one queued log record of the unit, written to agent.log now
// (not to the log-sender buffer: the outbox carries it to debug-log).
func (u *Uniter) logLine(level slog.Level, module, msg string) outbox.LogLine {
	u.cfg.Logger.Log(logsender.Spooled(u.ctx), level, msg, "unit", u.cfg.Unit, logsender.ModuleKey, module)
	return outbox.LogLine{Time: time.Now().UnixNano(), Level: logsender.LevelName(level), Module: module, Message: msg}
}

// pendingWorkload is the newest workload status still queued, so
// status-get reads what status-set wrote before it reached the
// controller.
func (u *Uniter) pendingWorkload() *outbox.Status {
	p := u.outbox.Pending()
	for i := len(p) - 1; i >= 0; i-- {
		if p[i].Workload != nil {
			return p[i].Workload
		}
	}
	return nil
}

// reportRequest fills the report parts of a CommitHook request.
func reportRequest(req *apipb.CommitHookRequest, unit string, e outbox.Entry) {
	if w := e.Workload; w != nil {
		req.Workload = &apipb.StatusInfo{Current: w.Current, Message: w.Message, SinceUnixNano: e.Appended}
	}
	for _, l := range e.Logs {
		req.Logs = append(req.Logs, &apipb.LogRecord{TimeUnixNano: l.Time, Level: l.Level, Module: l.Module, Message: l.Message})
	}
	req.LogsDropped = e.LogsDropped
	if a := e.Action; a != nil {
		req.Action = &apipb.FinishActionRequest{Unit: unit, Id: a.ID, Status: a.Status, Message: a.Message, ResultsJson: a.Results}
	}
	if a := e.ActionLog; a != nil {
		req.ActionLog = &apipb.LogActionRequest{Unit: unit, Id: a.ID, Message: a.Message}
	}
}
