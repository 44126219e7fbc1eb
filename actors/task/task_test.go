package task

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
)

var (
	t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 = t0.Add(time.Second)
)

func pending() *entity.Task {
	return &entity.Task{ID: "2", Operation: "1", Unit: "app/0", Action: "greet",
		Params: map[string]any{"name": "x"}, Status: entity.TaskPending, Enqueued: t0}
}

func with(t *entity.Task, f func(*entity.Task)) *entity.Task {
	c := *t
	f(&c)
	return &c
}

// TestTransitions walks every message from every status: the next
// document (nil: no write), and the error.
func TestTransitions(t *testing.T) {
	running := with(pending(), func(t *entity.Task) { t.Status, t.Started = entity.TaskRunning, t0 })
	done := with(running, func(t *entity.Task) {
		t.Status, t.Completed, t.Results = entity.TaskCompleted, t0, map[string]any{"return-code": 0}
	})
	cancelled := with(pending(), func(t *entity.Task) {
		t.Status, t.Message, t.Completed = entity.TaskCancelled, "cancelled before it started", t1
	})
	finish := &Finish{Status: entity.TaskFailed, Message: "boom", Results: map[string]any{"return-code": 1}}
	tests := []struct {
		name    string
		cur     *entity.Task
		msg     any
		next    *entity.Task
		wantErr error
		anyErr  bool
	}{
		{name: "start pending", cur: pending(), msg: &Start{},
			next: with(pending(), func(t *entity.Task) { t.Status, t.Started = entity.TaskRunning, t1 })},
		{name: "start running is a no-op", cur: running, msg: &Start{}},
		{name: "start cancelled is a no-op", cur: cancelled, msg: &Start{}},
		{name: "log running", cur: running, msg: &Log{Message: "hi"},
			next: with(running, func(t *entity.Task) { t.Log = []entity.TaskLog{{Time: t1, Message: "hi"}} })},
		{name: "log pending", cur: pending(), msg: &Log{Message: "hi"}, wantErr: ErrNotRunning},
		{name: "log done", cur: done, msg: &Log{Message: "hi"}, wantErr: ErrNotRunning},
		{name: "finish running", cur: running, msg: finish,
			next: with(running, func(t *entity.Task) {
				t.Status, t.Message, t.Results, t.Completed = entity.TaskFailed, "boom", map[string]any{"return-code": 1}, t1
			})},
		{name: "finish pending (interrupted before start)", cur: pending(), msg: finish,
			next: with(pending(), func(t *entity.Task) {
				t.Status, t.Message, t.Results, t.Started, t.Completed = entity.TaskFailed, "boom", map[string]any{"return-code": 1}, t1, t1
			})},
		{name: "finish again is a no-op", cur: done, msg: finish},
		{name: "finish with a bad status", cur: running, msg: &Finish{Status: "running"}, anyErr: true},
		{name: "cancel pending", cur: pending(), msg: &Cancel{}, next: cancelled},
		{name: "cancel running", cur: running, msg: &Cancel{}, wantErr: ErrStarted},
		{name: "cancel done is a no-op", cur: done, msg: &Cancel{}},
		{name: "get", cur: running, msg: &Get{}},
		{name: "unknown message", cur: running, msg: struct{}{}, anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.cur
			next, reply, err := Handle(t1, tt.cur, tt.msg)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			case tt.anyErr:
				if err == nil {
					t.Fatal("want an error")
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if !reflect.DeepEqual(next, tt.next) {
				t.Errorf("next:\n got %+v\nwant %+v", next, tt.next)
			}
			want := tt.cur
			if next != nil {
				want = next
			}
			if r, ok := reply.(*Task); !ok || !reflect.DeepEqual(r.Task, *want) {
				t.Errorf("reply = %+v, want the task after the message %+v", reply, want)
			}
			if !reflect.DeepEqual(*tt.cur, before) {
				t.Error("Handle modified the current document")
			}
		})
	}
}

func TestLogIsBounded(t *testing.T) {
	cur := with(pending(), func(t *entity.Task) { t.Status = entity.TaskRunning })
	cur.Log = make([]entity.TaskLog, maxLogMessages)
	next, reply, err := Handle(t1, cur, &Log{Message: "one too many"})
	if err != nil || next != nil || reply == nil {
		t.Errorf("a full log must drop the message without a write: next %v, err %v", next, err)
	}
}

// TestExtraDeletesPendingMarker: the pending marker goes in the write
// that leaves pending, and only then.
func TestExtraDeletesPendingMarker(t *testing.T) {
	extra := Extra("m1")
	running := with(pending(), func(t *entity.Task) { t.Status = entity.TaskRunning })
	if ops := extra(pending(), running); len(ops) != 1 {
		t.Errorf("pending → running: %d ops, want the marker delete", len(ops))
	}
	cancelled := with(pending(), func(t *entity.Task) { t.Status = entity.TaskCancelled })
	if ops := extra(pending(), cancelled); len(ops) != 1 {
		t.Errorf("pending → cancelled: %d ops, want the marker delete", len(ops))
	}
	logged := with(running, func(t *entity.Task) { t.Log = []entity.TaskLog{{Message: "x"}} })
	if ops := extra(running, logged); len(ops) != 0 {
		t.Errorf("running → running: %d ops, want none", len(ops))
	}
}
