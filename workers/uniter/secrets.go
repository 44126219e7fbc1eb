package uniter

import (
	"strconv"
	"time"

	"github.com/juju/clock"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/outbox"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// secretEvents turns the snapshot's due secret hooks into resolver
// events. The controller computes them from durable state (they vanish
// once the hook's commit says it ran), so their order numbers only need to
// be stable while the uniter runs: each distinct event gets the next
// number of a counter the first time it is seen, and keeps it.
type secretEvents struct {
	seq  map[string]uint64 // event key → its number; Run goroutine only
	next uint64
}

// events numbers snap's secret events. A leader-only event skipped while
// the unit was not the leader is numbered afresh once it leads (leadership is part of its key), so a
// new leader runs what the old one left undone.
func (e *secretEvents) events(snap *apipb.UnitSnapshotResult, leader bool) []resolver.Event {
	if e.seq == nil {
		e.seq = map[string]uint64{}
	}
	seen := map[string]bool{}
	var out []resolver.Event
	for _, ev := range snap.SecretEvents {
		h := hook.Info{Kind: hook.Kind(ev.Kind), SecretURI: ev.Uri, SecretLabel: ev.Label}
		if h.Kind == hook.SecretRemove || h.Kind == hook.SecretExpired {
			h.SecretRevision = int(ev.Revision)
		}
		key := ev.Kind + "|" + ev.Uri + "|" + strconv.Itoa(int(ev.Revision))
		if ev.LeaderOnly && leader {
			key += "|leader"
		}
		n, ok := e.seq[key]
		if !ok {
			e.next++
			n = e.next
			e.seq[key] = n
		}
		seen[key] = true
		out = append(out, resolver.Event{Seq: n, Hook: h, LeaderOnly: ev.LeaderOnly})
	}
	for k := range e.seq {
		if !seen[k] {
			delete(e.seq, k)
		}
	}
	return out
}

// dueTimer wakes the uniter when a time-based secret hook (expiry,
// rotation) falls due, so the next snapshot lists it.
type dueTimer struct {
	clock clock.Clock
	at    int64 // unix ms armed for; 0 none
	timer clock.Timer
}

// arm follows the snapshot's secret_next_due_ms.
func (t *dueTimer) arm(ms int64) {
	if ms == t.at && (t.timer != nil || ms == 0) {
		return
	}
	t.stop()
	t.at = ms
	if ms == 0 {
		return
	}
	t.timer = t.clock.NewTimer(max(0, time.UnixMilli(ms).Sub(t.clock.Now())))
}

// fired forgets the spent timer; the next arm re-arms if still needed.
func (t *dueTimer) fired() { t.timer = nil }

// C is the timer channel (nil when not armed).
func (t *dueTimer) C() <-chan time.Time {
	if t.timer == nil {
		return nil
	}
	return t.timer.Chan()
}

func (t *dueTimer) stop() {
	if t.timer != nil {
		t.timer.Stop()
	}
	t.timer = nil
}

// secretTrack is a buffered change of what this unit tracks.
type secretTrack struct {
	uri      string
	revision int
	label    *string
}

// hookSecretRevision is the revision a secret hook is about: the obsolete
// one for secret-remove/-expired, the latest (from the snapshot the hook
// was decided on) for secret-changed.
func hookSecretRevision(snap *apipb.UnitSnapshotResult, h hook.Info) int {
	if h.SecretRevision != 0 {
		return h.SecretRevision
	}
	for _, ev := range snap.SecretEvents {
		if ev.Kind == string(h.Kind) && ev.Uri == h.SecretURI {
			return int(ev.Revision)
		}
	}
	return 0
}

// secretChanges lists a hook's secret operations for the outbox: what the
// charm did, what it read (tracking), and that the secret hook itself ran.
func secretChanges(ch []hookcmds.SecretChange, b *backend) []outbox.SecretChange {
	var out []outbox.SecretChange
	for _, c := range ch {
		oc := outbox.SecretChange{Kind: c.Kind, URI: c.URI, Revision: c.Revision, RelationID: -1}
		switch c.Kind {
		case "create", "update":
			a := c.Args
			oc.Label, oc.Description, oc.Owner, oc.Content = a.Label, a.Description, a.Owner, a.Content
			if a.Expire != nil {
				oc.Expire = a.Expire.UTC().Format(time.RFC3339)
			}
			if a.RotatePolicy != nil {
				oc.Rotate = *a.RotatePolicy
			}
		case "grant", "revoke":
			oc.RelationID, oc.Application, oc.Unit = c.Grant.RelationID, c.Grant.Application, c.Grant.Unit
		}
		out = append(out, oc)
	}
	if b == nil {
		return out
	}
	for _, t := range b.tracks {
		out = append(out, outbox.SecretChange{Kind: "track", URI: t.uri, Revision: t.revision, Label: t.label, RelationID: -1})
	}
	if h := b.hook; h.Kind.IsSecret() {
		if rev := hookSecretRevision(b.snap, h); rev > 0 || h.Kind == hook.SecretRotate {
			out = append(out, outbox.SecretChange{Kind: "notify", URI: h.SecretURI, Revision: rev, Hook: string(h.Kind), RelationID: -1})
		}
	}
	return out
}

func secretChangesPB(in []outbox.SecretChange) []*apipb.SecretChange {
	var out []*apipb.SecretChange
	for _, c := range in {
		pc := &apipb.SecretChange{Kind: c.Kind, Uri: c.URI, Expire: c.Expire, Rotate: c.Rotate, Owner: c.Owner,
			RelationId: int32(c.RelationID), Application: c.Application, Unit: c.Unit, Revision: int32(c.Revision), Hook: c.Hook}
		if c.Label != nil {
			pc.HasLabel, pc.Label = true, *c.Label
		}
		if c.Description != nil {
			pc.HasDescription, pc.Description = true, *c.Description
		}
		if c.Content != nil {
			pc.HasContent, pc.Content = true, c.Content
		}
		out = append(out, pc)
	}
	return out
}

// --- hookcmds.Backend: secrets ----------------------------------------------

// ReadSecret is secret-get for secrets that existed before the hook. A
// consumer reads the revision it tracks; its first read, --refresh and a
// new label are tracking changes, buffered and committed with the hook.
func (b *backend) ReadSecret(uri, label string, refresh, peek bool) (map[string]string, error) {
	req := &apipb.ReadSecretRequest{Unit: b.u.cfg.Unit, Uri: uri, Label: label}
	var pinned *secretTrack
	for i := range b.tracks {
		t := &b.tracks[i]
		if (uri != "" && hookcmds.SecretID(t.uri) == hookcmds.SecretID(uri)) || (uri == "" && t.label != nil && *t.label == label) {
			pinned = t
			req.Uri = t.uri
		}
	}
	switch {
	case refresh || peek:
		req.Revision = -1
	case pinned != nil:
		req.Revision = int32(pinned.revision)
	}
	res, err := b.u.cfg.API.ReadSecret(b.ctx(), req)
	if status.Code(err) == codes.NotFound {
		return nil, hookcmds.ErrSecretNotFound
	}
	if err != nil {
		return nil, err
	}
	if res.Owner || peek {
		return res.Content, nil
	}
	newLabel := uri != "" && label != "" && label != res.Label
	if refresh || newLabel || (res.TrackedRevision == 0 && pinned == nil) {
		t := secretTrack{uri: res.Uri, revision: int(res.Revision)}
		if newLabel {
			t.label = &label
		}
		if pinned != nil {
			if t.label == nil {
				t.label = pinned.label
			}
			*pinned = t
		} else {
			b.tracks = append(b.tracks, t)
		}
	}
	return res.Content, nil
}

// OwnedSecrets is what secret-ids and secret-info-get list.
func (b *backend) OwnedSecrets() (map[string]hookcmds.SecretMetadata, error) {
	res, err := b.u.cfg.API.OwnedSecrets(b.ctx(), &apipb.OwnedSecretsRequest{Unit: b.u.cfg.Unit})
	if err != nil {
		return nil, err
	}
	out := map[string]hookcmds.SecretMetadata{}
	for _, s := range res.Secrets {
		md := hookcmds.SecretMetadata{URI: s.Uri, Revision: int(s.Revision), Label: s.Label, Owner: s.OwnerKind,
			Description: s.Description, RotatePolicy: s.Rotation}
		if t, err := time.Parse(time.RFC3339, s.Expires); err == nil {
			md.Expiry = &t
		}
		if t, err := time.Parse(time.RFC3339, s.Rotates); err == nil {
			md.NextRotate = &t
		}
		for _, a := range s.Access {
			md.Access = append(md.Access, hookcmds.SecretAccess{Target: a.Target, Scope: a.Scope, Role: a.Role})
		}
		out[s.Uri] = md
	}
	return out, nil
}
