package relation_test

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

func newState(life entity.Life, peer bool) *relation.State {
	eps := []entity.Endpoint{
		{Application: "wordpress", Name: "db", Interface: "mysql", Role: entity.RoleRequirer},
		{Application: "mysql", Name: "server", Interface: "mysql", Role: entity.RoleProvider},
	}
	if peer {
		eps = []entity.Endpoint{{Application: "mysql", Name: "cluster", Interface: "mysql-ha", Role: entity.RolePeer}}
	}
	return &relation.State{Relation: entity.Relation{ID: 3, Key: entity.RelationKeyOf(eps), Endpoints: eps, Life: life},
		Units: map[string]*entity.RelationUnit{}, Apps: map[string]*entity.RelationApp{}}
}

func TestHandle(t *testing.T) {
	inScope := func(s *relation.State, units ...string) *relation.State {
		for _, u := range units {
			s.Units[u] = &entity.RelationUnit{Relation: 3, Unit: u, InScope: true, Settings: map[string]string{"a": "1"}, Version: 1}
		}
		return s
	}
	tests := []struct {
		name    string
		cur     *relation.State
		msg     any
		wantEff relation.Effects
		wantErr string
		check   func(t *testing.T, next *relation.State)
	}{{
		name:    "enter scope records the unit with its automatic settings at version 1",
		cur:     newState(entity.Alive, false),
		msg:     &relation.EnterScope{Unit: "wordpress/0", Settings: map[string]string{"private-address": "10.0.0.1"}},
		wantEff: relation.Effects{Units: []string{"wordpress/0"}},
		check: func(t *testing.T, next *relation.State) {
			u := next.Units["wordpress/0"]
			if !u.InScope || u.Version != 1 || u.Settings["private-address"] != "10.0.0.1" {
				t.Errorf("unit after enter: %+v", u)
			}
		},
	}, {
		name: "entering again with the same settings changes nothing",
		cur:  inScope(newState(entity.Alive, false), "wordpress/0"),
		msg:  &relation.EnterScope{Unit: "wordpress/0", Settings: map[string]string{"a": "1"}},
	}, {
		name:    "a unit of another application cannot enter",
		cur:     newState(entity.Alive, false),
		msg:     &relation.EnterScope{Unit: "haproxy/0"},
		wantErr: "not in relation 3",
	}, {
		name:    "a dying relation cannot be entered",
		cur:     newState(entity.Dying, false),
		msg:     &relation.EnterScope{Unit: "wordpress/0"},
		wantErr: "not alive",
	}, {
		name:    "settings merge: set, change and delete bump the version once",
		cur:     inScope(newState(entity.Alive, false), "wordpress/0"),
		msg:     &relation.UpdateSettings{Unit: "wordpress/0", UnitChanges: map[string]string{"a": "", "b": "2"}},
		wantEff: relation.Effects{Units: []string{"wordpress/0"}},
		check: func(t *testing.T, next *relation.State) {
			u := next.Units["wordpress/0"]
			if u.Version != 2 || !reflect.DeepEqual(u.Settings, map[string]string{"b": "2"}) {
				t.Errorf("unit after update: %+v", u)
			}
		},
	}, {
		name: "re-applying the same commit is a no-op (idempotent)",
		cur:  inScope(newState(entity.Alive, false), "wordpress/0"),
		msg:  &relation.UpdateSettings{Unit: "wordpress/0", UnitChanges: map[string]string{"a": "1", "gone": ""}},
	}, {
		name:    "a unit out of scope cannot write its bag",
		cur:     newState(entity.Alive, false),
		msg:     &relation.UpdateSettings{Unit: "wordpress/0", UnitChanges: map[string]string{"a": "1"}},
		wantErr: "not in scope",
	}, {
		name:    "the application bag starts at version 1",
		cur:     inScope(newState(entity.Alive, false), "mysql/0"),
		msg:     &relation.UpdateSettings{Unit: "mysql/0", App: "mysql", AppChanges: map[string]string{"host": "db"}},
		wantEff: relation.Effects{Apps: []string{"mysql"}},
		check: func(t *testing.T, next *relation.State) {
			if a := next.Apps["mysql"]; a.Version != 1 || a.Settings["host"] != "db" {
				t.Errorf("app bag: %+v", a)
			}
		},
	}, {
		name:    "leaving scope keeps the bag readable",
		cur:     inScope(newState(entity.Alive, false), "wordpress/0", "mysql/0"),
		msg:     &relation.LeaveScope{Unit: "wordpress/0"},
		wantEff: relation.Effects{Units: []string{"wordpress/0"}},
		check: func(t *testing.T, next *relation.State) {
			if u := next.Units["wordpress/0"]; u.InScope || u.Settings["a"] != "1" {
				t.Errorf("unit after leave: %+v", u)
			}
		},
	}, {
		name: "leaving twice is a no-op",
		cur:  newState(entity.Alive, false),
		msg:  &relation.LeaveScope{Unit: "wordpress/0"},
	}, {
		name:    "destroy with units in scope makes it dying",
		cur:     inScope(newState(entity.Alive, false), "mysql/0"),
		msg:     &relation.Destroy{},
		wantEff: relation.Effects{Relation: true},
		check: func(t *testing.T, next *relation.State) {
			if next.Relation.Life != entity.Dying {
				t.Errorf("life %s", next.Relation.Life)
			}
		},
	}, {
		name:    "destroy with nobody in scope removes it",
		cur:     newState(entity.Alive, true),
		msg:     &relation.Destroy{},
		wantEff: relation.Effects{Remove: true},
	}, {
		name:    "the last unit leaving a dying relation removes it",
		cur:     inScope(newState(entity.Dying, false), "mysql/0"),
		msg:     &relation.LeaveScope{Unit: "mysql/0"},
		wantEff: relation.Effects{Remove: true},
	}, {
		name: "destroying a dying relation is a no-op",
		cur:  inScope(newState(entity.Dying, false), "mysql/0"),
		msg:  &relation.Destroy{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cloneViaLoad(tt.cur)
			next, eff, reply, err := relation.Handle(tt.cur, tt.msg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := reply.(*relation.Done); !ok {
				t.Errorf("reply %T, want *Done", reply)
			}
			if !reflect.DeepEqual(eff, tt.wantEff) {
				t.Errorf("effects %+v, want %+v", eff, tt.wantEff)
			}
			if reflect.DeepEqual(tt.wantEff, relation.Effects{}) && next != nil {
				t.Errorf("no change expected, got next state %+v", next)
			}
			if tt.check != nil {
				tt.check(t, next)
			}
			if !reflect.DeepEqual(before, cloneViaLoad(tt.cur)) {
				t.Errorf("Handle modified its input state")
			}
		})
	}
}

// cloneViaLoad deep-copies a state through a no-op-free route: a fresh
// value built field by field, for the "input untouched" check.
func cloneViaLoad(s *relation.State) relation.State {
	c := relation.State{Relation: s.Relation, Units: map[string]*entity.RelationUnit{}, Apps: map[string]*entity.RelationApp{}}
	for k, u := range s.Units {
		cu := *u
		cu.Settings = map[string]string{}
		for a, b := range u.Settings {
			cu.Settings[a] = b
		}
		c.Units[k] = &cu
	}
	for k, a := range s.Apps {
		ca := *a
		c.Apps[k] = &ca
	}
	return c
}

func setup(t *testing.T) (*store.Store, *actor.ActorSystem) {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(sys.Shutdown)
	return s, sys
}

func ask(t *testing.T, sys *actor.ActorSystem, pid *actor.PID, msg any) (*relation.Done, error) {
	t.Helper()
	return supervise.Ask[*relation.Done](sys.Root, pid, msg, 10*time.Second)
}

// TestActorPersistsThenApplies drives a real relation actor over real
// etcd: every acknowledged change is in the store, a fresh actor loads
// the same state, and removal deletes every key of the relation.
func TestActorPersistsThenApplies(t *testing.T) {
	s, sys := setup(t)
	ctx := context.Background()
	const model = "m1"
	st := newState(entity.Alive, false)
	op, _ := store.Put(entity.RelationKey(model, 3), &st.Relation)
	idx, _ := store.Put(entity.RelationIndexKey(model, st.Relation.Key), 3)
	if _, err := s.Commit(ctx, op, idx); err != nil {
		t.Fatal(err)
	}
	strategy := &supervise.Strategy{MaxRestarts: 3, Window: time.Minute}
	spawn := func() *actor.PID {
		return sys.Root.Spawn(relation.Props(relation.Config{Store: s, Model: model, ID: 3}).Configure(actor.WithGuardian(strategy)))
	}
	pid := spawn()
	for _, msg := range []any{
		&relation.EnterScope{Unit: "wordpress/0", Settings: map[string]string{"private-address": "10.0.0.1"}},
		&relation.EnterScope{Unit: "mysql/0"},
		&relation.UpdateSettings{Unit: "mysql/0", UnitChanges: map[string]string{"user": "wp"}, App: "mysql", AppChanges: map[string]string{"host": "db"}},
	} {
		if _, err := ask(t, sys, pid, msg); err != nil {
			t.Fatalf("%T: %v", msg, err)
		}
	}
	if _, err := ask(t, sys, pid, &relation.EnterScope{Unit: "nosuch/0"}); err == nil {
		t.Fatal("a unit outside the relation entered its scope")
	}
	loaded, err := relation.Load(ctx, s, model, 3)
	if err != nil || loaded == nil {
		t.Fatalf("load: %v %v", loaded, err)
	}
	if u := loaded.Units["mysql/0"]; !u.InScope || u.Settings["user"] != "wp" || u.Version != 1 {
		t.Errorf("persisted mysql/0: %+v", u)
	}
	if a := loaded.Apps["mysql"]; a == nil || a.Settings["host"] != "db" || a.Version != 1 {
		t.Errorf("persisted app bag: %+v", a)
	}
	// A second actor for the same relation (as after a restart) starts
	// from the store and keeps counting versions from there.
	sys.Root.Stop(pid)
	pid = spawn()
	if _, err := ask(t, sys, pid, &relation.UpdateSettings{Unit: "mysql/0", UnitChanges: map[string]string{"user": "wp2"}}); err != nil {
		t.Fatal(err)
	}
	loaded, _ = relation.Load(ctx, s, model, 3)
	if u := loaded.Units["mysql/0"]; u.Version != 2 || u.Settings["user"] != "wp2" {
		t.Errorf("after restart: %+v", u)
	}
	// Destroy, then both units leave: the relation and its bags are gone.
	for _, msg := range []any{&relation.Destroy{}, &relation.LeaveScope{Unit: "wordpress/0"}} {
		if d, err := ask(t, sys, pid, msg); err != nil || d.Removed {
			t.Fatalf("%T: removed=%v err=%v", msg, d != nil && d.Removed, err)
		}
	}
	if d, err := ask(t, sys, pid, &relation.LeaveScope{Unit: "mysql/0"}); err != nil || !d.Removed {
		t.Fatalf("last leave: %+v %v", d, err)
	}
	kvs, _, err := s.List(ctx, entity.ModelPrefix(model))
	if err != nil || len(kvs) != 0 {
		t.Errorf("keys left after removal: %d (%v)", len(kvs), err)
	}
}

// TestActorNeverRunsAheadOfTheStore: when the store refuses a write, the
// caller gets the error and the actor keeps its old state, so the same
// command fails again rather than being acknowledged from memory.
func TestActorNeverRunsAheadOfTheStore(t *testing.T) {
	s, sys := setup(t)
	st := newState(entity.Alive, false)
	st.Units["mysql/0"] = &entity.RelationUnit{Relation: 3, Unit: "mysql/0", InScope: true, Version: 1}
	pid := sys.Root.Spawn(relation.Props(relation.Config{Store: s, Model: "m1", ID: 3, Initial: st, Timeout: 2 * time.Second}).
		Configure(actor.WithGuardian(&supervise.Strategy{})))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	msg := &relation.UpdateSettings{Unit: "mysql/0", UnitChanges: map[string]string{"k": "v"}}
	for i := 0; i < 2; i++ {
		_, err := ask(t, sys, pid, msg)
		if err == nil || !strings.Contains(err.Error(), "cannot persist relation 3") {
			t.Fatalf("attempt %d: err %v, want a persist error", i+1, err)
		}
	}
	// An unchanged command needs no write and still succeeds.
	if _, err := ask(t, sys, pid, &relation.UpdateSettings{Unit: "mysql/0", UnitChanges: map[string]string{"k": ""}}); err != nil {
		t.Errorf("no-op update: %v", err)
	}
}
