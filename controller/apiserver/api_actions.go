package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/task"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// EnqueueAction implements apipb.ControllerServer. Everything is checked
// (receivers exist, the action is defined, params match its schema) before
// the one transaction that creates the operation and its tasks.
func (s *Server) EnqueueAction(ctx context.Context, req *apipb.EnqueueActionRequest) (*apipb.EnqueueActionResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	if len(req.Receivers) == 0 {
		return nil, invalid(errors.New("no unit specified; usage: troupe run <unit>|<application>/leader <action> [key=value...]"))
	}
	params := map[string]any{}
	if len(bytes.TrimSpace(req.ParamsJson)) > 0 {
		if err := json.Unmarshal(req.ParamsJson, &params); err != nil {
			return nil, invalid(fmt.Errorf("params are not a JSON object: %v", err))
		}
	}
	units, err := s.resolveReceivers(ctx, m, req.Receivers)
	if err != nil {
		return nil, err
	}
	actions := map[string]*charm.Actions{} // by application
	var specs []model.TaskSpec
	for _, u := range units {
		unitName := u.Name
		acts, ok := actions[u.Application]
		if !ok {
			if acts, err = s.charmActions(ctx, m.UUID, u.Application); err != nil {
				return nil, err
			}
			actions[u.Application] = acts
		}
		if _, ok := acts.Specs[req.Action]; !ok {
			return nil, status.Errorf(codes.NotFound, "action %q not defined for unit %q; the charm defines: %s (not found)",
				req.Action, unitName, actionList(acts))
		}
		valid, err := acts.ValidateParams(req.Action, params)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "invalid params for unit %q: %v; nothing was run", unitName, err)
		}
		specs = append(specs, model.TaskSpec{Unit: unitName, Params: valid})
	}
	return s.enqueue(m, req.Action, specs)
}

// ExecAction is the reserved action name of `troupe exec` tasks (Juju's;
// the unit agent has the same constant, workers/uniter execAction);
// charms cannot define it (the "juju-" prefix is reserved).
const ExecAction = "juju-exec"

// EnqueueExec implements apipb.ControllerServer.
func (s *Server) EnqueueExec(ctx context.Context, req *apipb.EnqueueExecRequest) (*apipb.EnqueueActionResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	if len(req.Receivers) == 0 {
		return nil, invalid(errors.New("no unit specified; usage: troupe exec --unit <unit>|<application>/leader -- <command>"))
	}
	if strings.TrimSpace(req.Command) == "" {
		return nil, invalid(errors.New("no command specified; usage: troupe exec --unit <unit> -- <command>"))
	}
	receivers, err := s.resolveExecReceivers(ctx, m, req.Receivers)
	if err != nil {
		return nil, err
	}
	specs := make([]model.TaskSpec, len(receivers))
	for i, r := range receivers {
		specs[i] = model.TaskSpec{Unit: r, Params: map[string]any{"command": req.Command}}
	}
	return s.enqueue(m, ExecAction, specs)
}

// CancelTask implements apipb.ControllerServer.
func (s *Server) CancelTask(ctx context.Context, req *apipb.GetTaskRequest) (*apipb.TaskInfo, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	if _, err := s.readTask(ctx, m.UUID, req.Id); err != nil {
		return nil, err
	}
	res, err := route[*task.Task](s, m.UUID, model.KindTask, req.Id, &task.Cancel{})
	if errors.Is(err, task.ErrStarted) {
		return nil, status.Errorf(codes.FailedPrecondition, "%v; a running task cannot be cancelled, wait for it with `troupe show-task %s --wait 5m`", err, req.Id)
	}
	if err != nil {
		return nil, err
	}
	return taskInfo(res.Task)
}

// resolveReceivers resolves receivers to existing, not dead units, without
// duplicates, in order.
func (s *Server) resolveReceivers(ctx context.Context, m entity.Model, receivers []string) ([]entity.Unit, error) {
	var units []entity.Unit
	seen := map[string]bool{}
	for _, r := range receivers {
		unitName, err := s.resolveReceiver(ctx, m, r)
		if err != nil {
			return nil, err
		}
		if seen[unitName] {
			continue
		}
		seen[unitName] = true
		var u entity.Unit
		if _, err := s.cfg.Store.Get(ctx, entity.UnitKey(m.UUID, unitName), &u); err != nil || u.Life == entity.Dead {
			return nil, status.Errorf(codes.NotFound, "unit %q not found in model %q (not found)", unitName, m.Name)
		}
		units = append(units, u)
	}
	return units, nil
}

func (s *Server) enqueue(m entity.Model, action string, specs []model.TaskSpec) (*apipb.EnqueueActionResult, error) {
	res, err := ask[*model.OperationEnqueued](s, m.UUID, &model.EnqueueOperation{Action: action, Tasks: specs})
	if err != nil {
		return nil, invalid(err)
	}
	out := &apipb.EnqueueActionResult{OperationId: res.Operation.ID}
	for _, t := range res.Tasks {
		ti, err := taskInfo(t)
		if err != nil {
			return nil, err
		}
		out.Tasks = append(out.Tasks, ti)
	}
	return out, nil
}

func actionList(a *charm.Actions) string {
	if names := a.Names(); len(names) > 0 {
		return strings.Join(names, ", ")
	}
	return "no actions"
}

// resolveReceiver turns "<app>/leader" into the leader's unit name.
func (s *Server) resolveReceiver(ctx context.Context, m entity.Model, r string) (string, error) {
	app, ok := strings.CutSuffix(r, "/leader")
	if !ok {
		if _, _, ok := entity.SplitUnitName(r); !ok {
			return "", invalid(fmt.Errorf("invalid unit name %q: expected <application>/<number> or <application>/leader", r))
		}
		return r, nil
	}
	var a entity.Application
	if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(m.UUID, app), &a); err != nil || a.Life == entity.Dead {
		return "", status.Errorf(codes.NotFound, "application %q not found in model %q (not found)", app, m.Name)
	}
	leader := a.LeaderAt(time.Now())
	if leader == "" {
		return "", status.Errorf(codes.NotFound, "application %q has no leader yet; wait for its units to start, or name a unit (not found)", app)
	}
	return leader, nil
}

// charmActions reads the actions of an application's charm from the
// stored archive.
func (s *Server) charmActions(ctx context.Context, uuid, app string) (*charm.Actions, error) {
	var a entity.Application
	if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(uuid, app), &a); err != nil {
		return nil, fmt.Errorf("cannot read application %q: %w", app, err)
	}
	ch, err := s.charmBySHA(a.CharmSHA256)
	if err != nil {
		return nil, fmt.Errorf("cannot read the charm of application %q: %w", app, err)
	}
	return ch.Actions, nil
}

// GetTask implements apipb.ControllerServer.
func (s *Server) GetTask(ctx context.Context, req *apipb.GetTaskRequest) (*apipb.TaskInfo, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	t, err := s.readTask(ctx, m.UUID, req.Id)
	if err != nil {
		return nil, err
	}
	return taskInfo(t)
}

// WatchTask implements apipb.ControllerServer.
func (s *Server) WatchTask(req *apipb.GetTaskRequest, stream apipb.Controller_WatchTaskServer) error {
	ctx := stream.Context()
	if err := requireUser(ctx); err != nil {
		return err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return err
	}
	if _, err := s.readTask(ctx, m.UUID, req.Id); err != nil {
		return err
	}
	key := entity.TaskKey(m.UUID, req.Id)
	return s.watch(ctx, stream.Send, func(k string) bool { return k == key })
}

// ListOperations implements apipb.ControllerServer.
func (s *Server) ListOperations(ctx context.Context, req *apipb.ListOperationsRequest) (*apipb.ListOperationsResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	taskKVs, _, err := s.cfg.Store.List(ctx, entity.TasksPrefix(m.UUID))
	if err != nil {
		return nil, err
	}
	tasks := map[string]*apipb.TaskInfo{}
	for _, kv := range taskKVs {
		var t entity.Task
		if err := json.Unmarshal(kv.Value, &t); err != nil {
			return nil, err
		}
		if tasks[t.ID], err = taskInfo(t); err != nil {
			return nil, err
		}
	}
	opKVs, _, err := s.cfg.Store.List(ctx, entity.OperationsPrefix(m.UUID))
	if err != nil {
		return nil, err
	}
	res := &apipb.ListOperationsResult{}
	for _, kv := range opKVs {
		var op entity.Operation
		if err := json.Unmarshal(kv.Value, &op); err != nil {
			return nil, err
		}
		oi := &apipb.OperationInfo{Id: op.ID, Action: op.Action, Summary: op.Summary, EnqueuedUnixNano: unixNano(op.Enqueued)}
		for _, id := range op.Tasks {
			if t, ok := tasks[id]; ok {
				oi.Tasks = append(oi.Tasks, t)
			}
		}
		res.Operations = append(res.Operations, oi)
	}
	sort.Slice(res.Operations, func(i, j int) bool {
		return idLess(res.Operations[i].Id, res.Operations[j].Id)
	})
	return res, nil
}

// BeginAction implements apipb.ControllerServer.
func (s *Server) BeginAction(ctx context.Context, req *apipb.UnitTaskRequest) (*apipb.TaskInfo, error) {
	tag, err := s.requireTaskOwner(ctx, req.Unit, req.Id)
	if err != nil {
		return nil, err
	}
	res, err := route[*task.Task](s, tag.Model, model.KindTask, req.Id, &task.Start{})
	if err != nil {
		return nil, err
	}
	return taskInfo(res.Task)
}

// LogAction implements apipb.ControllerServer.
func (s *Server) LogAction(ctx context.Context, req *apipb.LogActionRequest) (*apipb.LogActionResult, error) {
	tag, err := s.requireTaskOwner(ctx, req.Unit, req.Id)
	if err != nil {
		return nil, err
	}
	if _, err := route[*task.Task](s, tag.Model, model.KindTask, req.Id, &task.Log{Message: req.Message}); err != nil {
		if errors.Is(err, task.ErrNotRunning) {
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
		return nil, err
	}
	return &apipb.LogActionResult{}, nil
}

// FinishAction implements apipb.ControllerServer.
func (s *Server) FinishAction(ctx context.Context, req *apipb.FinishActionRequest) (*apipb.FinishActionResult, error) {
	tag, err := s.requireTaskOwner(ctx, req.Unit, req.Id)
	if err != nil {
		return nil, err
	}
	return s.finishTask(tag.Model, req.Id, req.Status, req.Message, req.ResultsJson)
}

// finishTask records a unit's or a machine's task as finished with its
// results (a JSON object, or empty).
func (s *Server) finishTask(modelUUID, id, st, message string, resultsJSON []byte) (*apipb.FinishActionResult, error) {
	var results map[string]any
	if err := resultsTooLarge(resultsJSON); err != nil {
		st, message, resultsJSON = entity.TaskFailed, err.Error(), nil
	}
	if len(resultsJSON) > 0 {
		if err := json.Unmarshal(resultsJSON, &results); err != nil {
			return nil, invalid(fmt.Errorf("results are not a JSON object: %v", err))
		}
	}
	if _, err := route[*task.Task](s, modelUUID, model.KindTask, id,
		&task.Finish{Status: st, Message: message, Results: results}); err != nil {
		return nil, invalid(err)
	}
	return &apipb.FinishActionResult{}, nil
}

// requireTaskOwner checks that the caller is unit and that task id runs on
// it.
func (s *Server) requireTaskOwner(ctx context.Context, unit, id string) (entity.Tag, error) {
	tag, err := requireUnit(ctx, unit)
	if err != nil {
		return tag, err
	}
	t, err := s.readTask(ctx, tag.Model, id)
	if err != nil {
		return tag, err
	}
	if t.Unit != unit {
		return tag, errPerm
	}
	return tag, nil
}

func (s *Server) readTask(ctx context.Context, uuid, id string) (entity.Task, error) {
	var t entity.Task
	if n, err := strconv.Atoi(id); err != nil || n < 1 || strconv.Itoa(n) != id {
		return t, status.Errorf(codes.InvalidArgument, "invalid task id %q: expected a positive number, as `troupe operations` shows", id)
	}
	if _, err := s.cfg.Store.Get(ctx, entity.TaskKey(uuid, id), &t); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return t, status.Errorf(codes.NotFound, "task %s not found; see `troupe operations`", id)
		}
		return t, err
	}
	return t, nil
}

// pendingTasks lists the unit's pending task ids, oldest first.
func (s *Server) pendingTasks(ctx context.Context, uuid, unit string) ([]string, error) {
	prefix := entity.PendingTasksPrefix(uuid, unit)
	kvs, _, err := s.cfg.Store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("cannot list pending actions of %s: %w", unit, err)
	}
	ids := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		ids = append(ids, strings.TrimPrefix(kv.Key, prefix))
	}
	sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
	return ids, nil
}

// idLess orders numeric ids by value.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func taskInfo(t entity.Task) (*apipb.TaskInfo, error) {
	params, err := json.Marshal(t.Params)
	if err != nil {
		return nil, fmt.Errorf("cannot encode params of task %s: %w", t.ID, err)
	}
	ti := &apipb.TaskInfo{Id: t.ID, OperationId: t.Operation, Unit: t.Unit, Action: t.Action, ParamsJson: params,
		Status: t.Status, Message: t.Message, EnqueuedUnixNano: unixNano(t.Enqueued),
		StartedUnixNano: unixNano(t.Started), CompletedUnixNano: unixNano(t.Completed)}
	if t.Params == nil {
		ti.ParamsJson = []byte("{}")
	}
	if len(t.Results) > 0 {
		if ti.ResultsJson, err = json.Marshal(t.Results); err != nil {
			return nil, fmt.Errorf("cannot encode results of task %s: %w", t.ID, err)
		}
	}
	for _, l := range t.Log {
		ti.Log = append(ti.Log, &apipb.TaskLogEntry{Message: l.Message, TimeUnixNano: unixNano(l.Time)})
	}
	return ti, nil
}
