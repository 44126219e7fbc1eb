package secret_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/secret"
	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

var (
	t0     = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	leader = secret.Caller{Unit: "vault/0", App: "vault", Leader: true}
	minion = secret.Caller{Unit: "vault/1", App: "vault"}
	client = secret.Caller{Unit: "client/0", App: "client"}
	user   = secret.Caller{}
)

func str(s string) *string { return &s }

func create(kind, owner string) secret.Change {
	return secret.Change{Kind: secret.KindCreate, ID: "s1", OwnerKind: kind, Owner: owner, Label: str("creds"),
		Content: []byte("rev-1"), HasContent: true}
}

func appSecret() *entity.Secret {
	next, _, err := secret.Handle(t0, nil, &secret.Apply{Caller: leader, Changes: []secret.Change{create(entity.SecretOwnerApplication, "vault")}})
	if err != nil {
		panic(err)
	}
	return next
}

func update(content string) secret.Change {
	return secret.Change{Kind: secret.KindUpdate, Content: []byte(content), HasContent: true}
}

func TestHandle(t *testing.T) {
	tracked := func(rev int) *entity.Secret {
		s := appSecret()
		s.Grants = []entity.SecretGrant{{Target: "client", RelationID: 4, Role: "view"}}
		s.Consumers = map[string]*entity.SecretConsumer{"client/0": {Tracked: rev}}
		return s
	}
	tests := []struct {
		name    string
		cur     *entity.Secret
		msg     *secret.Apply
		wantErr error
		noWrite bool
		check   func(t *testing.T, next *entity.Secret)
	}{{
		name: "the leader creates an application-owned secret at revision 1",
		msg:  &secret.Apply{Caller: leader, Changes: []secret.Change{create(entity.SecretOwnerApplication, "vault")}},
		check: func(t *testing.T, s *entity.Secret) {
			if s.Latest() != 1 || s.Label != "creds" || s.OwnerKind != entity.SecretOwnerApplication || s.Owner != "vault" ||
				!s.Created.Equal(t0.Add(time.Minute)) || !s.Updated.Equal(s.Created) || string(s.Revision(1).Content) != "rev-1" {
				t.Errorf("created %+v", s)
			}
		},
	}, {
		name:    "a non-leader cannot create an application-owned secret",
		msg:     &secret.Apply{Caller: minion, Changes: []secret.Change{create(entity.SecretOwnerApplication, "vault")}},
		wantErr: secret.ErrPermission,
	}, {
		name: "a non-leader creates a unit-owned secret",
		msg:  &secret.Apply{Caller: minion, Changes: []secret.Change{create(entity.SecretOwnerUnit, "vault/1")}},
		check: func(t *testing.T, s *entity.Secret) {
			if s.Owner != "vault/1" {
				t.Errorf("owner %q", s.Owner)
			}
		},
	}, {
		name:    "creating needs content",
		msg:     &secret.Apply{Caller: user, Changes: []secret.Change{{Kind: secret.KindCreate, ID: "s1", OwnerKind: entity.SecretOwnerModel}}},
		wantErr: errors.New("no content"),
	}, {
		name:    "re-creating an existing secret of the same owner changes nothing",
		cur:     appSecret(),
		msg:     &secret.Apply{Caller: leader, Changes: []secret.Change{create(entity.SecretOwnerApplication, "vault")}},
		noWrite: true,
	}, {
		name:    "an id taken by another owner is refused",
		cur:     appSecret(),
		msg:     &secret.Apply{Caller: user, Changes: []secret.Change{create(entity.SecretOwnerModel, "")}},
		wantErr: secret.ErrExists,
	}, {
		name: "new content is a new revision; metadata changes keep the revision",
		cur:  appSecret(),
		msg: &secret.Apply{Caller: leader, Changes: []secret.Change{update("rev-2"),
			{Kind: secret.KindUpdate, Description: str("d")}}},
		check: func(t *testing.T, s *entity.Secret) {
			if s.Latest() != 2 || string(s.Revision(2).Content) != "rev-2" || s.Description != "d" || len(s.Revisions) != 2 {
				t.Errorf("after update %+v", s)
			}
		},
	}, {
		name:    "a non-leader cannot update an application-owned secret",
		cur:     appSecret(),
		msg:     &secret.Apply{Caller: minion, Changes: []secret.Change{update("x")}},
		wantErr: secret.ErrPermission,
	}, {
		name:    "a consumer cannot update",
		cur:     tracked(1),
		msg:     &secret.Apply{Caller: client, Changes: []secret.Change{update("x")}},
		wantErr: secret.ErrPermission,
	}, {
		name: "the same hook commit delivered twice is applied once (no second revision)",
		cur: func() *entity.Secret {
			s := appSecret()
			next, _, _ := secret.Handle(t0, s, &secret.Apply{Caller: leader, Commit: entity.SecretCommit{Stream: "st", Seq: 7},
				Changes: []secret.Change{update("rev-2")}})
			return next
		}(),
		msg: &secret.Apply{Caller: leader, Commit: entity.SecretCommit{Stream: "st", Seq: 7},
			Changes: []secret.Change{update("rev-2")}},
		noWrite: true,
	}, {
		name: "a later commit of the same stream applies",
		cur: func() *entity.Secret {
			s := appSecret()
			s.Applied = map[string]entity.SecretCommit{"vault/0": {Stream: "st", Seq: 7}}
			return s
		}(),
		msg: &secret.Apply{Caller: leader, Commit: entity.SecretCommit{Stream: "st", Seq: 8}, Changes: []secret.Change{update("rev-2")}},
		check: func(t *testing.T, s *entity.Secret) {
			if s.Latest() != 2 || s.Applied["vault/0"].Seq != 8 {
				t.Errorf("after commit 8: latest %d, applied %+v", s.Latest(), s.Applied)
			}
		},
	}, {
		name: "granting twice keeps one grant; revoking by relation removes it",
		cur:  appSecret(),
		msg: &secret.Apply{Caller: leader, Changes: []secret.Change{
			{Kind: secret.KindGrant, Grant: entity.SecretGrant{Target: "client", RelationID: 4}},
			{Kind: secret.KindGrant, Grant: entity.SecretGrant{Target: "client", RelationID: 4}},
			{Kind: secret.KindGrant, Grant: entity.SecretGrant{Target: "other", RelationID: 5}},
			{Kind: secret.KindRevoke, Grant: entity.SecretGrant{RelationID: 5}}}},
		check: func(t *testing.T, s *entity.Secret) {
			want := []entity.SecretGrant{{Target: "client", RelationID: 4, Role: "view"}}
			if !reflect.DeepEqual(s.Grants, want) {
				t.Errorf("grants %+v, want %+v", s.Grants, want)
			}
		},
	}, {
		name: "a consumer's first read tracks the revision and label",
		cur:  appSecret(),
		msg:  &secret.Apply{Caller: client, Changes: []secret.Change{{Kind: secret.KindTrack, Revision: 1, ConsumerLabel: str("mine")}}},
		check: func(t *testing.T, s *entity.Secret) {
			if c := s.Consumers["client/0"]; c == nil || c.Tracked != 1 || c.Label != "mine" {
				t.Errorf("consumer %+v", c)
			}
		},
	}, {
		name:    "tracking a revision that does not exist fails",
		cur:     appSecret(),
		msg:     &secret.Apply{Caller: client, Changes: []secret.Change{{Kind: secret.KindTrack, Revision: 9}}},
		wantErr: secret.ErrNotFound,
	}, {
		name:    "owners do not track",
		cur:     appSecret(),
		msg:     &secret.Apply{Caller: minion, Changes: []secret.Change{{Kind: secret.KindTrack, Revision: 1}}},
		noWrite: true,
	}, {
		name: "notify records what the consumer was told of, never going back",
		cur: func() *entity.Secret {
			s := tracked(1)
			s.Consumers["client/0"].Notified = 3
			return s
		}(),
		msg:     &secret.Apply{Caller: client, Changes: []secret.Change{{Kind: secret.KindNotify, Revision: 2}}},
		noWrite: true,
	}, {
		name: "removing one revision keeps the others",
		cur: func() *entity.Secret {
			s, _, _ := secret.Handle(t0, appSecret(), &secret.Apply{Caller: leader, Changes: []secret.Change{update("rev-2")}})
			return s
		}(),
		msg: &secret.Apply{Caller: leader, Changes: []secret.Change{{Kind: secret.KindRemove, Revision: 1}}},
		check: func(t *testing.T, s *entity.Secret) {
			if s.Removed || len(s.Revisions) != 1 || s.Latest() != 2 {
				t.Errorf("after removing revision 1: %+v", s)
			}
		},
	}, {
		name: "removing the whole secret leaves a tombstone without content",
		cur:  tracked(1),
		msg:  &secret.Apply{Caller: leader, Changes: []secret.Change{{Kind: secret.KindRemove}}},
		check: func(t *testing.T, s *entity.Secret) {
			if !s.Removed || len(s.Revisions) != 0 || len(s.Grants) != 0 || len(s.Consumers) != 0 {
				t.Errorf("tombstone %+v", s)
			}
		},
	}, {
		name:    "a redelivered create of a removed secret does not bring it back",
		cur:     &entity.Secret{ID: "s1", OwnerKind: entity.SecretOwnerApplication, Owner: "vault", Removed: true},
		msg:     &secret.Apply{Caller: leader, Changes: []secret.Change{create(entity.SecretOwnerApplication, "vault")}},
		noWrite: true,
	}, {
		name:    "changing a removed secret: not found",
		cur:     &entity.Secret{ID: "s1", OwnerKind: entity.SecretOwnerApplication, Owner: "vault", Removed: true},
		msg:     &secret.Apply{Caller: leader, Changes: []secret.Change{update("x")}},
		wantErr: secret.ErrNotFound,
	}, {
		name: "a hook that removed the secret it ran for commits both (notify after remove is a no-op)",
		cur:  appSecret(),
		msg: &secret.Apply{Caller: leader, Changes: []secret.Change{{Kind: secret.KindRemove},
			{Kind: secret.KindNotify, Hook: secret.HookExpired, Revision: 1}, {Kind: secret.KindTrack, Revision: 1}}},
		check: func(t *testing.T, s *entity.Secret) {
			if !s.Removed {
				t.Errorf("not removed: %+v", s)
			}
		},
	}, {
		name: "auto-prune drops untracked old revisions at once and tracked ones when left behind",
		cur: func() *entity.Secret {
			s, _, _ := secret.Handle(t0, nil, &secret.Apply{Caller: user, Changes: []secret.Change{create(entity.SecretOwnerModel, "")}})
			s, _, _ = secret.Handle(t0, s, &secret.Apply{Caller: user, Changes: []secret.Change{update("rev-2")}})
			s.Consumers = map[string]*entity.SecretConsumer{"client/0": {Tracked: 1}}
			return s
		}(),
		msg: &secret.Apply{Caller: user, Changes: []secret.Change{{Kind: secret.KindUpdate, AutoPrune: true, Content: []byte("rev-3"), HasContent: true}}},
		check: func(t *testing.T, s *entity.Secret) {
			var revs []int
			for _, r := range s.Revisions {
				revs = append(revs, r.Revision)
			}
			if !s.AutoPrune || !reflect.DeepEqual(revs, []int{1, 3}) {
				t.Fatalf("revisions %v (auto-prune %v), want [1 3]: 2 untracked is pruned, 1 is tracked", revs, s.AutoPrune)
			}
			next, _, err := secret.Handle(t0, s, &secret.Apply{Caller: client, Changes: []secret.Change{{Kind: secret.KindTrack, Revision: 3}}})
			if err != nil || len(next.Revisions) != 1 || next.Latest() != 3 {
				t.Errorf("after the consumer refreshed: %+v, %v; want only revision 3", next, err)
			}
		},
	}, {
		name:    "changing a secret that does not exist: not found",
		msg:     &secret.Apply{Caller: leader, Changes: []secret.Change{update("x")}},
		wantErr: secret.ErrNotFound,
	}, {
		name: "the user writes model-owned secrets; units cannot",
		cur: func() *entity.Secret {
			s, _, _ := secret.Handle(t0, nil, &secret.Apply{Caller: user, Changes: []secret.Change{create(entity.SecretOwnerModel, "")}})
			return s
		}(),
		msg:     &secret.Apply{Caller: leader, Changes: []secret.Change{update("x")}},
		wantErr: secret.ErrPermission,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before []byte
			if tt.cur != nil {
				before, _ = json.Marshal(tt.cur)
			}
			next, reply, err := secret.Handle(t0.Add(time.Minute), tt.cur, tt.msg)
			if tt.wantErr != nil {
				if err == nil || (!errors.Is(err, tt.wantErr) && !strings.Contains(err.Error(), tt.wantErr.Error())) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if reply == nil {
				t.Fatal("no reply")
			}
			if tt.noWrite != (next == nil) {
				t.Fatalf("wrote %v, want a write: %v", next != nil, !tt.noWrite)
			}
			if after, _ := json.Marshal(tt.cur); tt.cur != nil && string(after) != string(before) {
				t.Errorf("Handle changed its input")
			}
			if tt.check != nil {
				tt.check(t, next)
			}
		})
	}
}

func TestEvents(t *testing.T) {
	// vault owns s1 at revisions 1..3; client/0 tracks 1, client/1 tracks 3.
	base := func() *entity.Secret {
		s := appSecret()
		for _, c := range []string{"rev-2", "rev-3"} {
			s, _, _ = secret.Handle(t0, s, &secret.Apply{Caller: leader, Changes: []secret.Change{update(c)}})
		}
		s.Consumers = map[string]*entity.SecretConsumer{"client/0": {Tracked: 1, Label: "db"}, "client/1": {Tracked: 3}}
		return s
	}
	tests := []struct {
		name      string
		sec       func() *entity.Secret
		unit, app string
		canRead   bool
		now       time.Time // zero: t0
		want      []secret.Event
	}{{
		name: "a consumer behind the latest gets secret-changed with its label",
		sec:  base, unit: "client/0", app: "client", canRead: true,
		want: []secret.Event{{Kind: "secret-changed", URI: "secret:s1", Label: "db", Revision: 3}},
	}, {
		name: "a consumer at the latest gets nothing",
		sec:  base, unit: "client/1", app: "client", canRead: true,
	}, {
		name: "a consumer that lost access (relation gone) gets nothing",
		sec:  base, unit: "client/0", app: "client", canRead: false,
	}, {
		name: "a consumer told of the latest already gets nothing",
		sec: func() *entity.Secret {
			s := base()
			s.Consumers["client/0"].Notified = 3
			return s
		}, unit: "client/0", app: "client", canRead: true,
	}, {
		name: "a unit that never read the secret gets nothing",
		sec:  base, unit: "client/2", app: "client", canRead: true,
	}, {
		name: "the owner gets secret-remove (leader only) for each untracked old revision",
		sec:  base, unit: "vault/1", app: "vault",
		want: []secret.Event{{Kind: "secret-remove", URI: "secret:s1", Label: "creds", Revision: 2, LeaderOnly: true}},
	}, {
		name: "an obsolete revision the owner was told of is not repeated",
		sec: func() *entity.Secret {
			s := base()
			s.OwnerNotified = []int{2}
			return s
		}, unit: "vault/0", app: "vault",
	}, {
		name: "a unit-owned secret's owner gets secret-remove, not leader-only",
		sec: func() *entity.Secret {
			s, _, _ := secret.Handle(t0, nil, &secret.Apply{Caller: minion, Changes: []secret.Change{create(entity.SecretOwnerUnit, "vault/1")}})
			s, _, _ = secret.Handle(t0, s, &secret.Apply{Caller: minion, Changes: []secret.Change{update("rev-2")}})
			return s
		}, unit: "vault/1", app: "vault",
		want: []secret.Event{{Kind: "secret-remove", URI: "secret:s1", Label: "creds", Revision: 1}},
	}, {
		name: "a removed secret has no events",
		sec: func() *entity.Secret {
			s := base()
			s.Removed = true
			return s
		}, unit: "client/0", app: "client", canRead: true,
	}, {
		name: "an expired revision: secret-expired for the owner once its expiry passed",
		sec: func() *entity.Secret {
			s := base()
			exp := t0.Add(time.Hour)
			s.Revisions[2].Expire = &exp
			s.OwnerNotified = []int{2}
			return s
		}, unit: "vault/0", app: "vault", now: t0.Add(time.Hour),
		want: []secret.Event{{Kind: "secret-expired", URI: "secret:s1", Label: "creds", Revision: 3, LeaderOnly: true}},
	}, {
		name: "not yet expired, or expired and told: nothing",
		sec: func() *entity.Secret {
			s := base()
			exp := t0.Add(time.Hour)
			s.Revisions[2].Expire = &exp
			s.Revisions[1].Expire = &exp
			s.ExpiredNotified = []int{2}
			s.OwnerNotified = []int{2}
			return s
		}, unit: "vault/0", app: "vault", now: t0.Add(time.Hour - time.Second),
	}, {
		name: "rotation due one period after creation",
		sec: func() *entity.Secret {
			s := base()
			s.Rotate, s.OwnerNotified = "hourly", []int{2}
			return s
		}, unit: "vault/0", app: "vault", now: t0.Add(time.Hour),
		want: []secret.Event{{Kind: "secret-rotate", URI: "secret:s1", Label: "creds", LeaderOnly: true}},
	}, {
		name: "rotation not due again until a period after the last one",
		sec: func() *entity.Secret {
			s := base()
			last := t0.Add(time.Hour)
			s.Rotate, s.OwnerNotified, s.LastRotated = "hourly", []int{2}, &last
			return s
		}, unit: "vault/0", app: "vault", now: t0.Add(2*time.Hour - time.Second),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			got := secret.Events(tt.sec(), tt.unit, tt.app, tt.canRead, now)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Events = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNextDueAndNotify(t *testing.T) {
	s := appSecret() // created at t0
	s.Rotate = "daily"
	exp := t0.Add(time.Hour)
	s.Revisions[0].Expire = &exp
	if got := secret.NextDue(s, "vault/1", "vault", t0); got == nil || !got.Equal(exp) {
		t.Errorf("NextDue = %v, want the expiry %v", got, exp)
	}
	if got := secret.NextDue(s, "client/0", "client", t0); got != nil {
		t.Errorf("NextDue for a consumer = %v, want none", got)
	}
	// The expired hook ran: the next due time is the rotation.
	next, _, err := secret.Handle(t0.Add(time.Hour), s, &secret.Apply{Caller: leader,
		Changes: []secret.Change{{Kind: secret.KindNotify, Hook: secret.HookExpired, Revision: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := secret.NextDue(next, "vault/0", "vault", t0.Add(time.Hour)); got == nil || !got.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("NextDue after secret-expired = %v, want the rotation a day after creation", got)
	}
	// The rotate hook ran a day later: the next rotation is a day after it.
	rotated, _, err := secret.Handle(t0.Add(24*time.Hour), next, &secret.Apply{Caller: leader,
		Changes: []secret.Change{{Kind: secret.KindNotify, Hook: secret.HookRotate}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := secret.NextRotate(rotated); got == nil || !got.Equal(t0.Add(48*time.Hour)) {
		t.Errorf("NextRotate after secret-rotate = %v, want two days after creation", got)
	}
	if evs := secret.Events(rotated, "vault/0", "vault", false, t0.Add(24*time.Hour)); len(evs) != 0 {
		t.Errorf("events after both hooks ran: %+v", evs)
	}
}

// TestActorPersistsThenApplies runs the actor on a real store: a create
// is durable (a new incarnation loads it and ignores the redelivered
// commit), and decision and persist errors reach the caller.
func TestActorPersistsThenApplies(t *testing.T) {
	s, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(sys.Shutdown)
	strategy := &supervise.Strategy{MaxRestarts: 3, Window: time.Minute}
	spawn := func() *actor.PID {
		return sys.Root.Spawn(secret.Props(secret.Config{Store: s, Model: "m1", ID: "s1", Timeout: 2 * time.Second}).Configure(actor.WithGuardian(strategy)))
	}
	ask := func(pid *actor.PID, m *secret.Apply) (*secret.Done, error) {
		return supervise.Ask[*secret.Done](sys.Root, pid, m, 10*time.Second)
	}
	pid := spawn()
	if _, err := ask(pid, &secret.Apply{Caller: leader, Changes: []secret.Change{update("x")}}); !errors.Is(err, secret.ErrNotFound) {
		t.Fatalf("update before create: %v, want not found", err)
	}
	done, err := ask(pid, &secret.Apply{Caller: leader, Commit: entity.SecretCommit{Stream: "st", Seq: 1},
		Changes: []secret.Change{create(entity.SecretOwnerApplication, "vault")}})
	if err != nil || done.Secret.Latest() != 1 {
		t.Fatalf("create: %+v, %v", done, err)
	}
	var doc entity.Secret
	if _, err := s.Get(context.Background(), entity.SecretKey("m1", "s1"), &doc); err != nil || doc.Latest() != 1 || doc.Applied["vault/0"].Seq != 1 {
		t.Fatalf("stored %+v, %v", doc, err)
	}
	sys.Root.StopFuture(pid).Wait()
	pid = spawn() // a new incarnation loads the document
	if _, err := ask(pid, &secret.Apply{Caller: leader, Commit: entity.SecretCommit{Stream: "st", Seq: 1},
		Changes: []secret.Change{create(entity.SecretOwnerApplication, "vault"), update("y")}}); err != nil {
		t.Fatal(err)
	}
	done, err = ask(pid, &secret.Apply{Caller: leader, Changes: []secret.Change{update("z")}})
	if err != nil || done.Secret.Latest() != 2 {
		t.Fatalf("after a redelivered commit and one update: latest %d (want 2), %v", done.Secret.Latest(), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ask(pid, &secret.Apply{Caller: leader, Changes: []secret.Change{update("w")}}); err == nil || !strings.Contains(err.Error(), "cannot persist secret s1") {
		t.Fatalf("update on a closed store: %v, want a persist error", err)
	}
}
