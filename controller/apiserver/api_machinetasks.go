package apiserver

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/task"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Machine tasks: `troupe exec --machine ID` enqueues a juju-exec task
// whose receiver (Task.Unit) is the machine id; the machine's agent
// watches its pending markers (entity.PendingTasksPrefix with the machine
// id), begins, runs and finishes them with the RPCs below.

// resolveExecReceivers resolves exec receivers, unit names (or
// app/leader) and machine ids, to existing, not dead receivers, without
// duplicates, in order.
func (s *Server) resolveExecReceivers(ctx context.Context, m entity.Model, receivers []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, r := range receivers {
		if !entity.IsMachineID(r) {
			units, err := s.resolveReceivers(ctx, m, []string{r})
			if err != nil {
				return nil, err
			}
			r = units[0].Name
		} else {
			var mc entity.Machine
			_, err := s.cfg.Store.Get(ctx, entity.MachineKey(m.UUID, r), &mc)
			if errors.Is(err, store.ErrNotFound) || (err == nil && mc.Life == entity.Dead) {
				return nil, status.Errorf(codes.NotFound, "machine %q not found in model %q; see `troupe machines` (not found)", r, m.Name)
			}
			if err != nil {
				return nil, fmt.Errorf("cannot read machine %q: %w", r, err)
			}
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// WatchMachineTasks implements apipb.ControllerServer.
func (s *Server) WatchMachineTasks(req *apipb.WatchMachineRequest, stream apipb.Controller_WatchMachineTasksServer) error {
	tag, err := requireMachine(stream.Context(), req.Machine)
	if err != nil {
		return err
	}
	prefix := entity.PendingTasksPrefix(tag.Model, req.Machine)
	return s.watch(stream.Context(), stream.Send, func(k string) bool {
		// "0/lxd/0"'s markers share machine 0's prefix; they only cost a
		// spurious re-list.
		return strings.HasPrefix(k, prefix)
	})
}

// MachineTasks implements apipb.ControllerServer.
func (s *Server) MachineTasks(ctx context.Context, req *apipb.MachineTasksRequest) (*apipb.MachineTasksResult, error) {
	tag, err := requireMachine(ctx, req.Machine)
	if err != nil {
		return nil, err
	}
	prefix := entity.PendingTasksPrefix(tag.Model, req.Machine)
	kvs, _, err := s.cfg.Store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("cannot list pending tasks of machine %s: %w", req.Machine, err)
	}
	res := &apipb.MachineTasksResult{}
	for _, kv := range kvs {
		id := strings.TrimPrefix(kv.Key, prefix)
		if strings.Contains(id, "/") { // a container's marker
			continue
		}
		res.Ids = append(res.Ids, id)
	}
	sort.Slice(res.Ids, func(i, j int) bool { return idLess(res.Ids[i], res.Ids[j]) })
	return res, nil
}

// BeginMachineTask implements apipb.ControllerServer.
func (s *Server) BeginMachineTask(ctx context.Context, req *apipb.MachineTaskRequest) (*apipb.TaskInfo, error) {
	tag, err := s.requireMachineTask(ctx, req.Machine, req.Id)
	if err != nil {
		return nil, err
	}
	res, err := route[*task.Task](s, tag.Model, model.KindTask, req.Id, &task.Start{})
	if err != nil {
		return nil, err
	}
	return taskInfo(res.Task)
}

// FinishMachineTask implements apipb.ControllerServer.
func (s *Server) FinishMachineTask(ctx context.Context, req *apipb.FinishMachineTaskRequest) (*apipb.FinishActionResult, error) {
	tag, err := s.requireMachineTask(ctx, req.Machine, req.Id)
	if err != nil {
		return nil, err
	}
	return s.finishTask(tag.Model, req.Id, req.Status, req.Message, req.ResultsJson)
}

// requireMachineTask checks that the caller is machine's agent and that
// task id runs on that machine.
func (s *Server) requireMachineTask(ctx context.Context, machine, id string) (entity.Tag, error) {
	tag, err := requireMachine(ctx, machine)
	if err != nil {
		return tag, err
	}
	t, err := s.readTask(ctx, tag.Model, id)
	if err != nil {
		return tag, err
	}
	if t.Unit != machine {
		return tag, errPerm
	}
	return tag, nil
}
