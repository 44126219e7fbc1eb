package model_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/actors/task"
	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

const uuid = "m1"

func setup(t testing.TB) (*store.Store, *actor.ActorSystem, *actor.PID) {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	op, _ := store.Put(ent.ModelKey(uuid), &ent.Model{UUID: uuid, Name: "default", Life: ent.Alive})
	if _, err := s.Commit(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(sys.Shutdown)
	strategy := &supervise.Strategy{MaxRestarts: 3, Window: time.Minute}
	pid := sys.Root.Spawn(model.Props(model.Config{Store: s, UUID: uuid, Strategy: strategy}).Configure(actor.WithGuardian(strategy)))
	return s, sys, pid
}

func keys(t testing.TB, s *store.Store, prefix string) []string {
	t.Helper()
	kvs, _, err := s.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range kvs {
		out = append(out, strings.TrimPrefix(kv.Key, ent.ModelPrefix(uuid)))
	}
	return out
}

// TestEnqueueOperation: one transaction creates the operation, a pending
// task per unit with its pending marker, and advances the model-wide id
// sequence; the task's actor then removes the marker when it starts and
// records the outcome.
func TestEnqueueOperation(t *testing.T) {
	s, sys, pid := setup(t)
	ask := func(msg any) any {
		t.Helper()
		res, err := supervise.Ask[any](sys.Root, pid, msg, 10*time.Second)
		if err != nil {
			t.Fatalf("%T: %v", msg, err)
		}
		return res
	}
	res := ask(&model.EnqueueOperation{Action: "greet", Tasks: []model.TaskSpec{
		{Unit: "app/0", Params: map[string]any{"n": 1}}, {Unit: "app/1"},
	}}).(*model.OperationEnqueued)
	if res.Operation.ID != "1" || len(res.Tasks) != 2 || res.Tasks[0].ID != "2" || res.Tasks[1].ID != "3" {
		t.Fatalf("ids: operation %s, tasks %+v; want 1 with 2, 3", res.Operation.ID, res.Tasks)
	}
	if res.Operation.Summary != "greet run on unit-app-0,unit-app-1" {
		t.Errorf("summary %q", res.Operation.Summary)
	}
	want := []string{"operation/1", "pending-task/app/0/2", "pending-task/app/1/3", "task/2", "task/3"}
	got := append(keys(t, s, ent.OperationsPrefix(uuid)), keys(t, s, ent.ModelPrefix(uuid)+"pending-task/")...)
	got = append(got, keys(t, s, ent.TasksPrefix(uuid))...)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("keys after enqueue: %v, want %v", got, want)
	}
	var m ent.Model
	if _, err := s.Get(context.Background(), ent.ModelKey(uuid), &m); err != nil || m.NextActionID != 4 {
		t.Errorf("model next action id %d (%v), want 4", m.NextActionID, err)
	}
	// The sequence continues across operations.
	res2 := ask(&model.EnqueueOperation{Action: "greet", Tasks: []model.TaskSpec{{Unit: "app/0"}}}).(*model.OperationEnqueued)
	if res2.Operation.ID != "4" || res2.Tasks[0].ID != "5" {
		t.Errorf("second operation %s task %s, want 4 and 5", res2.Operation.ID, res2.Tasks[0].ID)
	}

	started := ask(&model.Route{Kind: model.KindTask, ID: "2", Msg: &task.Start{}}).(*task.Task)
	if started.Task.Status != ent.TaskRunning {
		t.Errorf("after Start: %s", started.Task.Status)
	}
	if got := keys(t, s, ent.PendingTasksPrefix(uuid, "app/0")); strings.Join(got, " ") != "pending-task/app/0/5" {
		t.Errorf("app/0 pending markers after starting task 2: %v, want only task 5's", got)
	}
	ask(&model.Route{Kind: model.KindTask, ID: "2", Msg: &task.Log{Message: "half way"}})
	ask(&model.Route{Kind: model.KindTask, ID: "2", Msg: &task.Finish{Status: ent.TaskCompleted, Results: map[string]any{"return-code": 0}}})
	var doc ent.Task
	if _, err := s.Get(context.Background(), ent.TaskKey(uuid, "2"), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Status != ent.TaskCompleted || len(doc.Log) != 1 || doc.Params["n"] != float64(1) || doc.Completed.IsZero() {
		t.Errorf("durable task 2: %+v", doc)
	}
	ask(&model.Route{Kind: model.KindTask, ID: "3", Msg: &task.Cancel{}})
	if got := keys(t, s, ent.PendingTasksPrefix(uuid, "app/1")); len(got) != 0 {
		t.Errorf("cancelled task kept its pending marker: %v", got)
	}
	if _, err := supervise.Ask[any](sys.Root, pid, &model.EnqueueOperation{Action: "greet"}, 10*time.Second); err == nil {
		t.Error("an operation without tasks must be refused")
	}
}

// BenchmarkTaskLifecycle is one task's whole life through the actors:
// enqueue (one txn), start, one log message, finish: four fenced commits.
// Compare with BenchmarkFourCommits, the floor measured in the same run.
func BenchmarkTaskLifecycle(b *testing.B) {
	_, sys, pid := setup(b)
	ask := func(msg any) any {
		res, err := supervise.Ask[any](sys.Root, pid, msg, 10*time.Second)
		if err != nil {
			b.Fatalf("%T: %v", msg, err)
		}
		return res
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := ask(&model.EnqueueOperation{Action: "greet", Tasks: []model.TaskSpec{{Unit: "app/0"}}}).(*model.OperationEnqueued)
		id := res.Tasks[0].ID
		ask(&model.Route{Kind: model.KindTask, ID: id, Msg: &task.Start{}})
		ask(&model.Route{Kind: model.KindTask, ID: id, Msg: &task.Log{Message: "x"}})
		ask(&model.Route{Kind: model.KindTask, ID: id, Msg: &task.Finish{Status: ent.TaskCompleted}})
	}
}

// BenchmarkFourCommits is the floor for BenchmarkTaskLifecycle: four
// fenced commits of a task-sized document straight to etcd.
func BenchmarkFourCommits(b *testing.B) {
	s, _, _ := setup(b)
	ctx := context.Background()
	doc := &ent.Task{ID: "2", Unit: "app/0", Action: "greet", Status: ent.TaskRunning}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < 4; j++ {
			op, _ := store.Put(ent.TaskKey(uuid, "2"), doc)
			if _, err := s.Commit(ctx, op); err != nil {
				b.Fatal(err)
			}
		}
	}
}
