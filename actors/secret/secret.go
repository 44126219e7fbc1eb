// Package secret is the secret actor: the single writer of one secret's
// document (owner, metadata, revisions, grants, what each consumer unit
// tracks), so every change to a secret is one fenced store transaction
// decided by the pure Handle.
//
//	hook commit / user command ─▶ Apply{Caller, Commit, Changes}
//	        │
//	        ▼
//	absent ──create──▶ live ──update (content ⇒ revision+1) / grant / revoke
//	                    │      track / notify (consumers) / remove N
//	                    └──remove (all, or the last revision)──▶ tombstone
//
// Idempotency: a unit's hook commit carries its outbox (stream, seq); the
// document records the last one applied per unit and a repeat changes
// nothing, so a redelivered commit never adds a second revision. A
// "create" of a secret that exists (or was removed: the tombstone stays)
// is a no-op: the agent chose the id inside the hook.
//
// Events computes, from a document and the time alone, the secret hooks
// due for a unit (secret-changed, secret-remove, secret-expired,
// secret-rotate): level-triggered from durable state, so nothing is lost
// when an agent restarts; NextDue says when a time-based one falls due.
//
// Who imports it: the model guardian (which spawns it) and the API server
// (messages, Handle's errors, Events). It does no IO except its own persist;
// content arrives sealed and is never logged.
package secret

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/actors/supervise"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Change kinds.
const (
	KindCreate = "create"
	KindUpdate = "update"
	KindGrant  = "grant"
	KindRevoke = "revoke"
	KindRemove = "remove"
	KindTrack  = "track"  // a consumer reads a revision (secret-get first read, --refresh)
	KindNotify = "notify" // a secret hook ran for Revision (secret-changed, secret-remove)
)

// Errors of Handle.
var (
	ErrNotFound   = errors.New("secret not found")
	ErrPermission = errors.New("permission denied")
	ErrExists     = errors.New("secret already exists")
)

// Caller is who asks. Unit is empty for a user (the model's admin).
// Leader says whether Unit leads App (checked by the API server).
type Caller struct {
	Unit   string
	App    string
	Leader bool
}

// Change is one operation on the secret; the fields used depend on Kind.
type Change struct {
	Kind string
	// create
	ID, OwnerKind, Owner, Name string
	// create, update: nil leaves a field unchanged
	Label, Description, Rotate *string
	Expire                     *time.Time
	// Content is sealed; HasContent adds a revision.
	Content    []byte
	HasContent bool
	// grant, revoke. Revoke matches by RelationID (≥ 0), else by Target.
	Grant entity.SecretGrant
	// remove (0: all), track, notify
	Revision int
	// track: the consumer's label (nil unchanged)
	ConsumerLabel *string
	// notify: the secret hook that ran (secret-changed, secret-remove,
	// secret-expired, secret-rotate)
	Hook string
	// update: turn on auto-prune
	AutoPrune bool
}

// Apply applies Changes in order as one write.
type Apply struct {
	Caller  Caller
	Commit  entity.SecretCommit // zero for user commands
	Changes []Change
}

// Done acknowledges Apply with the secret as it now is.
type Done struct{ Secret entity.Secret }

// Owns reports whether caller owns s (for an application-owned secret,
// any unit of the application; writes also need leadership).
func Owns(s *entity.Secret, c Caller) bool {
	switch s.OwnerKind {
	case entity.SecretOwnerModel:
		return c.Unit == ""
	case entity.SecretOwnerApplication:
		return c.Unit != "" && c.App == s.Owner
	case entity.SecretOwnerUnit:
		return c.Unit != "" && c.Unit == s.Owner
	}
	return false
}

func canWrite(s *entity.Secret, c Caller) error {
	if !Owns(s, c) {
		return fmt.Errorf("%w: %s does not own secret %s", ErrPermission, callerName(c), s.URI())
	}
	if s.OwnerKind == entity.SecretOwnerApplication && !c.Leader {
		return fmt.Errorf("%w: %s is not the leader of %s", ErrPermission, c.Unit, s.Owner)
	}
	return nil
}

func callerName(c Caller) string {
	if c.Unit == "" {
		return "the model"
	}
	return c.Unit
}

func clone(s *entity.Secret) *entity.Secret {
	c := *s
	c.Revisions = slices.Clone(s.Revisions)
	c.Grants = slices.Clone(s.Grants)
	c.OwnerNotified = slices.Clone(s.OwnerNotified)
	c.ExpiredNotified = slices.Clone(s.ExpiredNotified)
	c.Applied = maps.Clone(s.Applied)
	c.Consumers = map[string]*entity.SecretConsumer{}
	for k, v := range s.Consumers {
		cv := *v
		c.Consumers[k] = &cv
	}
	return &c
}

// Handle decides an Apply. cur is nil when the secret does not exist. It
// returns the next document (nil: nothing to write), the reply, or an
// error (nothing changes). Pure.
func Handle(now time.Time, cur *entity.Secret, m *Apply) (*entity.Secret, *Done, error) {
	now = now.UTC().Truncate(time.Second)
	if cur != nil && m.Commit.Stream != "" {
		if a, ok := cur.Applied[m.Caller.Unit]; ok && a.Stream == m.Commit.Stream && m.Commit.Seq <= a.Seq {
			return nil, &Done{Secret: *cur}, nil // delivered before
		}
	}
	var next *entity.Secret
	if cur != nil {
		next = clone(cur)
	}
	changed := false
	for _, ch := range m.Changes {
		if ch.Kind == KindCreate {
			if next != nil {
				if next.Removed || (next.OwnerKind == ch.OwnerKind && next.Owner == ch.Owner) {
					continue // created before (re-applied commit)
				}
				return nil, nil, fmt.Errorf("%w: %s", ErrExists, next.URI())
			}
			s, err := create(now, m.Caller, ch)
			if err != nil {
				return nil, nil, err
			}
			next, changed = s, true
			continue
		}
		if next == nil || next.Removed {
			if ch.Kind == KindNotify || ch.Kind == KindTrack {
				continue // the hook ran for (or read) a secret removed since
			}
			return nil, nil, ErrNotFound
		}
		c, err := apply(now, next, m.Caller, ch)
		if err != nil {
			return nil, nil, err
		}
		changed = changed || c
	}
	if next == nil {
		return nil, nil, ErrNotFound
	}
	if changed && prune(next) {
		next.Updated = now
	}
	if m.Commit.Stream != "" {
		if next.Applied == nil {
			next.Applied = map[string]entity.SecretCommit{}
		}
		next.Applied[m.Caller.Unit] = m.Commit
		changed = true
	}
	if !changed {
		return nil, &Done{Secret: *next}, nil
	}
	return next, &Done{Secret: *next}, nil
}

func create(now time.Time, c Caller, ch Change) (*entity.Secret, error) {
	if ch.ID == "" {
		return nil, errors.New("cannot create secret: no id")
	}
	if !ch.HasContent {
		return nil, errors.New("cannot create secret: no content")
	}
	s := &entity.Secret{ID: ch.ID, OwnerKind: ch.OwnerKind, Owner: ch.Owner, Name: ch.Name, Created: now, Updated: now,
		Revisions: []entity.SecretRevision{{Revision: 1, Created: now, Updated: now, Content: ch.Content, Expire: ch.Expire}}}
	switch ch.OwnerKind {
	case entity.SecretOwnerModel, entity.SecretOwnerApplication, entity.SecretOwnerUnit:
	default:
		return nil, fmt.Errorf("cannot create secret: owner kind %q not valid", ch.OwnerKind)
	}
	if err := canWrite(s, c); err != nil {
		return nil, fmt.Errorf("cannot create secret: %w", err)
	}
	setMeta(s, ch)
	return s, nil
}

func setMeta(s *entity.Secret, ch Change) bool {
	changed := false
	set := func(dst *string, v *string) {
		if v != nil && *dst != *v {
			*dst, changed = *v, true
		}
	}
	set(&s.Label, ch.Label)
	set(&s.Description, ch.Description)
	set(&s.Rotate, ch.Rotate)
	if ch.Name != "" && ch.Kind == KindUpdate {
		set(&s.Name, &ch.Name)
	}
	if ch.Expire != nil {
		e := *ch.Expire
		s.Expire, changed = &e, true
	}
	return changed
}

func apply(now time.Time, s *entity.Secret, c Caller, ch Change) (bool, error) {
	switch ch.Kind {
	case KindUpdate:
		if err := canWrite(s, c); err != nil {
			return false, err
		}
		changed := setMeta(s, ch)
		if ch.AutoPrune && !s.AutoPrune {
			s.AutoPrune, changed = true, true
		}
		if ch.HasContent {
			s.Revisions = append(s.Revisions, entity.SecretRevision{Revision: s.Latest() + 1, Created: now, Updated: now,
				Content: ch.Content, Expire: ch.Expire})
			changed = true
		} else if ch.Expire != nil { // a new expiry is the latest revision's
			if r := s.Revision(s.Latest()); r != nil {
				e := *ch.Expire
				r.Expire, r.Updated = &e, now
			}
		}
		if changed {
			s.Updated = now
		}
		return changed, nil
	case KindGrant:
		if err := canWrite(s, c); err != nil {
			return false, err
		}
		g := ch.Grant
		if g.Role == "" {
			g.Role = "view"
		}
		if g.Target == "" {
			return false, errors.New("cannot grant secret: no target")
		}
		if slices.Contains(s.Grants, g) {
			return false, nil
		}
		s.Grants = append(s.Grants, g)
		return true, nil
	case KindRevoke:
		if err := canWrite(s, c); err != nil {
			return false, err
		}
		n := len(s.Grants)
		s.Grants = slices.DeleteFunc(s.Grants, func(g entity.SecretGrant) bool {
			if ch.Grant.RelationID >= 0 {
				return g.RelationID == ch.Grant.RelationID && (ch.Grant.Target == "" || g.Target == ch.Grant.Target)
			}
			return g.Target == ch.Grant.Target
		})
		return len(s.Grants) != n, nil
	case KindRemove:
		if err := canWrite(s, c); err != nil {
			return false, err
		}
		if ch.Revision != 0 {
			if s.Revision(ch.Revision) == nil {
				return false, fmt.Errorf("%w: revision %d of %s", ErrNotFound, ch.Revision, s.URI())
			}
			s.Revisions = slices.DeleteFunc(s.Revisions, func(r entity.SecretRevision) bool { return r.Revision == ch.Revision })
			if len(s.Revisions) > 0 {
				return true, nil
			}
		}
		*s = entity.Secret{ID: s.ID, OwnerKind: s.OwnerKind, Owner: s.Owner, Created: s.Created, Updated: now, Removed: true, Applied: s.Applied}
		return true, nil
	case KindTrack:
		if c.Unit == "" || Owns(s, c) {
			return false, nil // owners always read the latest
		}
		if ch.Revision < 1 || s.Revision(ch.Revision) == nil {
			return false, fmt.Errorf("%w: revision %d of %s", ErrNotFound, ch.Revision, s.URI())
		}
		if s.Consumers == nil {
			s.Consumers = map[string]*entity.SecretConsumer{}
		}
		cs := s.Consumers[c.Unit]
		if cs == nil {
			cs = &entity.SecretConsumer{}
			s.Consumers[c.Unit] = cs
		}
		changed := cs.Tracked != ch.Revision
		cs.Tracked = ch.Revision
		if ch.ConsumerLabel != nil && cs.Label != *ch.ConsumerLabel {
			cs.Label, changed = *ch.ConsumerLabel, true
		}
		return changed, nil
	case KindNotify:
		if c.Unit == "" {
			return false, nil
		}
		if Owns(s, c) {
			switch ch.Hook {
			case HookRotate:
				t := now
				s.LastRotated = &t
				return true, nil
			case HookExpired:
				if slices.Contains(s.ExpiredNotified, ch.Revision) {
					return false, nil
				}
				s.ExpiredNotified = append(s.ExpiredNotified, ch.Revision)
				return true, nil
			}
			if slices.Contains(s.OwnerNotified, ch.Revision) {
				return false, nil
			}
			s.OwnerNotified = append(s.OwnerNotified, ch.Revision)
			return true, nil
		}
		cs := s.Consumers[c.Unit]
		if cs == nil || cs.Notified >= ch.Revision {
			return false, nil
		}
		cs.Notified = ch.Revision
		return true, nil
	}
	return false, fmt.Errorf("unknown secret change %q", ch.Kind)
}

// Event is a secret hook due for a unit.
type Event struct {
	Kind       string // secret-changed, secret-remove
	URI        string
	Label      string
	Revision   int
	LeaderOnly bool
}

// Secret hook names.
const (
	HookChanged = "secret-changed"
	HookRemove  = "secret-remove"
	HookExpired = "secret-expired"
	HookRotate  = "secret-rotate"
)

// RotatePeriod is how long a rotate policy waits between rotations; zero
// for never (or an unknown policy).
func RotatePeriod(policy string) time.Duration {
	day := 24 * time.Hour
	return map[string]time.Duration{"hourly": time.Hour, "daily": day, "weekly": 7 * day,
		"monthly": 30 * day, "quarterly": 90 * day, "yearly": 365 * day}[policy]
}

// NextRotate is when s is next due to rotate, or nil.
func NextRotate(s *entity.Secret) *time.Time {
	p := RotatePeriod(s.Rotate)
	if p == 0 || s.Removed {
		return nil
	}
	base := s.Created
	if s.LastRotated != nil {
		base = *s.LastRotated
	}
	t := base.Add(p)
	return &t
}

// Events returns the secret hooks due at now for unit (of app) on s. A
// consumer with access (canRead) that tracks a revision gets
// secret-changed while the latest revision is past both the tracked one
// and the last it was told of. The owner gets secret-remove for each
// revision other than the latest that no consumer tracks,
// secret-expired for each revision whose expiry passed, and
// secret-rotate once the rotation is due, each until the hook's commit
// says it ran (leader-only for an application-owned secret). Pure.
func Events(s *entity.Secret, unit, app string, canRead bool, now time.Time) []Event {
	if s.Removed {
		return nil
	}
	latest := s.Latest()
	c := Caller{Unit: unit, App: app}
	if Owns(s, c) {
		leaderOnly := s.OwnerKind == entity.SecretOwnerApplication
		var out []Event
		if t := NextRotate(s); t != nil && !now.Before(*t) {
			out = append(out, Event{Kind: HookRotate, URI: s.URI(), Label: s.Label, LeaderOnly: leaderOnly})
		}
		for _, r := range s.Revisions {
			if r.Expire != nil && !now.Before(*r.Expire) && !slices.Contains(s.ExpiredNotified, r.Revision) {
				out = append(out, Event{Kind: HookExpired, URI: s.URI(), Label: s.Label, Revision: r.Revision, LeaderOnly: leaderOnly})
			}
		}
		for _, r := range s.Revisions {
			if r.Revision == latest || slices.Contains(s.OwnerNotified, r.Revision) || tracked(s, r.Revision) {
				continue
			}
			out = append(out, Event{Kind: HookRemove, URI: s.URI(), Label: s.Label, Revision: r.Revision, LeaderOnly: leaderOnly})
		}
		return out
	}
	cs := s.Consumers[unit]
	if !canRead || cs == nil || cs.Tracked == 0 || latest <= max(cs.Tracked, cs.Notified) {
		return nil
	}
	return []Event{{Kind: HookChanged, URI: s.URI(), Label: cs.Label, Revision: latest}}
}

// NextDue is the earliest time after now at which an owner's time-based
// hook (secret-expired, secret-rotate) of s becomes due for unit, or nil.
func NextDue(s *entity.Secret, unit, app string, now time.Time) *time.Time {
	if s.Removed || !Owns(s, Caller{Unit: unit, App: app}) {
		return nil
	}
	var next *time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next == nil || t.Before(*next)) {
			tt := t
			next = &tt
		}
	}
	if t := NextRotate(s); t != nil {
		consider(*t)
	}
	for _, r := range s.Revisions {
		if r.Expire != nil && !slices.Contains(s.ExpiredNotified, r.Revision) {
			consider(*r.Expire)
		}
	}
	return next
}

// prune removes, for an auto-prune secret, every revision other than the
// latest that no consumer tracks, and reports whether it removed any.
func prune(s *entity.Secret) bool {
	if !s.AutoPrune || s.Removed {
		return false
	}
	latest, n := s.Latest(), len(s.Revisions)
	s.Revisions = slices.DeleteFunc(s.Revisions, func(r entity.SecretRevision) bool {
		return r.Revision != latest && !tracked(s, r.Revision)
	})
	return len(s.Revisions) != n
}

func tracked(s *entity.Secret, rev int) bool {
	for _, c := range s.Consumers {
		if c.Tracked == rev {
			return true
		}
	}
	return false
}

// Config configures a secret actor.
type Config struct {
	Store *store.Store
	Model string
	ID    string
	Now   func() time.Time
	// Timeout bounds a persist. Zero means 10s.
	Timeout time.Duration
}

type secretActor struct {
	cfg   Config
	state *entity.Secret // owned by the actor goroutine; nil when absent
}

// Props returns props for the actor of one secret.
func Props(cfg Config) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &secretActor{cfg: cfg} })
}

func (a *secretActor) timeout() time.Duration {
	if a.cfg.Timeout == 0 {
		return 10 * time.Second
	}
	return a.cfg.Timeout
}

func (a *secretActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		c, cancel := context.WithTimeout(context.Background(), a.timeout())
		defer cancel()
		var s entity.Secret
		_, err := a.cfg.Store.Get(c, entity.SecretKey(a.cfg.Model, a.cfg.ID), &s)
		switch {
		case errors.Is(err, store.ErrNotFound):
			a.state = nil
		case err != nil:
			panic(fmt.Sprintf("cannot load secret %s: %v", a.cfg.ID, err))
		default:
			a.state = &s
		}
	case *Apply:
		a.handle(ctx, msg)
	case *actor.Restarting, *actor.Stopping, *actor.Stopped, actor.SystemMessage, actor.AutoReceiveMessage:
	default:
		ctx.Respond(&supervise.Failure{Err: fmt.Errorf("secret actor: unexpected message %T", msg)})
	}
}

func (a *secretActor) handle(ctx actor.Context, m *Apply) {
	now := time.Now
	if a.cfg.Now != nil {
		now = a.cfg.Now
	}
	next, reply, err := Handle(now(), a.state, m)
	if err != nil {
		ctx.Respond(&supervise.Failure{Err: err})
		return
	}
	if next != nil {
		op, err := store.Put(entity.SecretKey(a.cfg.Model, a.cfg.ID), next)
		if err == nil {
			c, cancel := context.WithTimeout(context.Background(), a.timeout())
			_, err = a.cfg.Store.Commit(c, op)
			cancel()
		}
		if err != nil {
			ctx.Respond(&supervise.Failure{Err: fmt.Errorf("cannot persist secret %s: %w", a.cfg.ID, err)})
			return
		}
		a.state = next
	}
	if ctx.Sender() != nil {
		ctx.Respond(reply)
	}
}
