// Package task holds the task actor's protocol and its pure decision
// function. A task is one action run on one unit (Juju's "task" of an
// "operation"). The model guardian creates the task document together
// with its operation; from then on the task's entity actor
// (actors/entity) is its only writer. The unit agent moves it through
//
//	pending ──Start──▶ running ──Finish──▶ completed | failed | error
//	   │                  └──Log (appends a message, stays running)
//	   └──Cancel──▶ cancelled          (Finish from pending: failed, the
//	                                    agent gave up on it unrun)
//
// Final statuses never change again: a repeated Finish, Start or Cancel
// on a finished task is answered without a write, so agents may retry
// after a lost reply.
package task

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Start moves a pending task to running. The reply is the task as it is
// after the message: a cancelled task stays cancelled and the agent must
// not run it.
type Start struct{}

// Log appends an action-log message to a running task.
type Log struct {
	Message string
}

// Finish records a task's outcome. Status is completed, failed or error.
type Finish struct {
	Status  string
	Message string
	Results map[string]any
}

// Cancel cancels a task that has not started.
type Cancel struct{}

// Get reads the task.
type Get struct{}

// Task answers every message: the task after the message.
type Task struct{ Task entity.Task }

// ErrNotRunning is returned by Log for a task that is not running.
var ErrNotRunning = errors.New("task is not running")

// ErrStarted is returned by Cancel for a task that already started.
var ErrStarted = errors.New("task has already started")

// maxLogMessages bounds a task's log so a chatty action cannot grow its
// document without limit; later messages are dropped.
const maxLogMessages = 1000

// Handle is the task's decision function.
func Handle(now time.Time, cur *entity.Task, msg any) (*entity.Task, any, error) {
	switch m := msg.(type) {
	case *Get:
		return nil, reply(cur), nil
	case *Start:
		if cur.Status != entity.TaskPending {
			return nil, reply(cur), nil
		}
		next := clone(cur)
		next.Status, next.Started = entity.TaskRunning, now
		return next, reply(next), nil
	case *Log:
		if cur.Status != entity.TaskRunning {
			return nil, nil, fmt.Errorf("cannot log to task %s: %w (it is %s)", cur.ID, ErrNotRunning, cur.Status)
		}
		if len(cur.Log) >= maxLogMessages {
			return nil, reply(cur), nil
		}
		next := clone(cur)
		next.Log = append(next.Log, entity.TaskLog{Time: now, Message: m.Message})
		return next, reply(next), nil
	case *Finish:
		switch m.Status {
		case entity.TaskCompleted, entity.TaskFailed, entity.TaskError:
		default:
			return nil, nil, fmt.Errorf("cannot finish task %s with status %q: use completed, failed or error", cur.ID, m.Status)
		}
		if cur.Finished() {
			return nil, reply(cur), nil
		}
		next := clone(cur)
		next.Status, next.Message, next.Results, next.Completed = m.Status, m.Message, maps.Clone(m.Results), now
		if next.Started.IsZero() {
			next.Started = now
		}
		return next, reply(next), nil
	case *Cancel:
		switch {
		case cur.Status == entity.TaskPending:
			next := clone(cur)
			next.Status, next.Message, next.Completed = entity.TaskCancelled, "cancelled before it started", now
			return next, reply(next), nil
		case cur.Finished():
			return nil, reply(cur), nil
		}
		return nil, nil, fmt.Errorf("cannot cancel task %s: %w", cur.ID, ErrStarted)
	}
	return nil, nil, fmt.Errorf("task: unexpected message %T", msg)
}

// Extra keeps the unit's pending-task marker in step with the task: it is
// deleted in the transaction that moves the task out of pending.
func Extra(model string) func(cur, next *entity.Task) []store.Op {
	return func(cur, next *entity.Task) []store.Op {
		if cur != nil && cur.Status == entity.TaskPending && next.Status != entity.TaskPending {
			return []store.Op{store.Delete(entity.PendingTaskKey(model, next.Unit, next.ID))}
		}
		return nil
	}
}

func reply(t *entity.Task) *Task { return &Task{Task: *clone(t)} }

func clone(t *entity.Task) *entity.Task {
	c := *t
	c.Params = maps.Clone(t.Params)
	c.Results = maps.Clone(t.Results)
	c.Log = slices.Clone(t.Log)
	return &c
}
