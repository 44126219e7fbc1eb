package apiserver

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/secret"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/sealbox"
	"github.com/troupe-dev/troupe/internal/store"
)

// sealer returns the controller's secret sealing box, opening (or
// creating) its key file next to the charm store on first use.
func (s *Server) sealer() (*sealbox.Box, error) {
	s.sealMu.Lock()
	defer s.sealMu.Unlock()
	if s.seal != nil {
		return s.seal, nil
	}
	path := s.cfg.SecretKeyFile
	if path == "" {
		path = filepath.Join(filepath.Dir(s.cfg.CharmDir), entity.SecretKeyFile)
	}
	b, err := sealbox.Open(path)
	if err != nil {
		return nil, err
	}
	s.seal = b
	return b, nil
}

func (s *Server) sealContent(content map[string]string) ([]byte, error) {
	b, err := s.sealer()
	if err != nil {
		return nil, err
	}
	return b.Seal(content)
}

func (s *Server) unsealRevision(sec *entity.Secret, rev int) (map[string]string, error) {
	r := sec.Revision(rev)
	if r == nil {
		return nil, status.Errorf(codes.NotFound, "revision %d of secret %q not found", rev, sec.ID)
	}
	b, err := s.sealer()
	if err != nil {
		return nil, err
	}
	return b.Unseal(r.Content)
}

// newSecretID is a 20-character lowercase base32hex id, like Juju's xids.
func newSecretID() (string, error) {
	var b [13]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cannot generate secret id: %w", err)
	}
	return strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:20], nil
}

// bareSecretID strips "secret:" and "secret://<model>/".
func bareSecretID(s string) string {
	s = strings.TrimPrefix(s, "secret:")
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func (s *Server) listSecrets(ctx context.Context, model string) ([]*entity.Secret, error) {
	kvs, _, err := s.cfg.Store.List(ctx, entity.SecretsPrefix(model))
	if err != nil {
		return nil, err
	}
	var out []*entity.Secret
	for _, kv := range kvs {
		sec := new(entity.Secret)
		if err := store.Decode(store.KV(kv), sec); err != nil {
			return nil, err
		}
		if !sec.Removed {
			out = append(out, sec)
		}
	}
	return out, nil
}

func (s *Server) getSecret(ctx context.Context, model, id string) (*entity.Secret, error) {
	sec := new(entity.Secret)
	if _, err := s.cfg.Store.Get(ctx, entity.SecretKey(model, bareSecretID(id)), sec); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	if sec.Removed {
		return nil, nil
	}
	return sec, nil
}

// userSecret finds a model-owned secret by name, URI or bare id.
// userSecretFor is the common start of the user secret calls: a user
// caller, the named model, and the secret ref names in it.
func (s *Server) userSecretFor(ctx context.Context, modelName, ref string) (entity.Model, *entity.Secret, error) {
	if err := requireUser(ctx); err != nil {
		return entity.Model{}, nil, err
	}
	m, err := s.modelByName(ctx, modelName)
	if err != nil {
		return m, nil, err
	}
	sec, err := s.userSecret(ctx, m.UUID, m.Name, ref)
	return m, sec, err
}

func (s *Server) userSecret(ctx context.Context, model, modelName, ref string) (*entity.Secret, error) {
	all, err := s.listSecrets(ctx, model)
	if err != nil {
		return nil, err
	}
	for _, sec := range all {
		if sec.ID == bareSecretID(ref) || (sec.Name != "" && sec.Name == ref) {
			return sec, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "secret %q not found in model %q; see `troupe secrets`", ref, modelName)
}

// applySecret sends one Apply to a secret's actor and maps its errors.
func (s *Server) applySecret(uuid, id string, m *secret.Apply) (*entity.Secret, error) {
	done, err := route[*secret.Done](s, uuid, model.KindSecret, id, m)
	switch {
	case errors.Is(err, secret.ErrNotFound):
		return nil, status.Error(codes.NotFound, err.Error())
	case errors.Is(err, secret.ErrPermission):
		return nil, status.Error(codes.PermissionDenied, err.Error())
	case errors.Is(err, secret.ErrExists):
		return nil, status.Error(codes.AlreadyExists, err.Error())
	case err != nil:
		return nil, err
	}
	return &done.Secret, nil
}

// secretAccess decides whether unit (of app) may read sec: it owns it,
// or a grant names its application (or the unit) and, for a grant made
// over a relation, that relation still exists.
func (s *Server) secretAccess(ctx context.Context, model string, sec *entity.Secret, unit, app string) (bool, error) {
	if secret.Owns(sec, secret.Caller{Unit: unit, App: app}) {
		return true, nil
	}
	for _, g := range sec.Grants {
		if (g.Unit && g.Target != unit) || (!g.Unit && g.Target != app) {
			continue
		}
		if g.RelationID < 0 {
			return true, nil
		}
		var r entity.Relation
		_, err := s.cfg.Store.Get(ctx, entity.RelationKey(model, g.RelationID), &r)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	return false, nil
}

func ts(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// secretInfo renders a document; the caller adds content.
func (s *Server) secretInfo(ctx context.Context, model string, sec *entity.Secret, revisions bool) *apipb.SecretInfo {
	info := &apipb.SecretInfo{Id: sec.ID, Uri: sec.URI(), Name: sec.Name, Owner: sec.Owner, OwnerKind: sec.OwnerKind,
		Label: sec.Label, Description: sec.Description, Revision: int32(sec.Latest()),
		Created: ts(sec.Created), Updated: ts(sec.Updated), Rotation: sec.Rotate}
	if sec.OwnerKind == entity.SecretOwnerModel {
		info.Owner = "<model>"
	}
	if r := sec.Revision(sec.Latest()); r != nil && r.Expire != nil {
		info.Expires = ts(*r.Expire)
	}
	if t := secret.NextRotate(sec); t != nil {
		info.Rotates = ts(*t)
	}
	for _, g := range sec.Grants {
		target := "application-" + g.Target
		if g.Unit {
			target = "unit-" + strings.ReplaceAll(g.Target, "/", "-")
		}
		scope := "model-" + model
		if g.RelationID >= 0 {
			var r entity.Relation
			if _, err := s.cfg.Store.Get(ctx, entity.RelationKey(model, g.RelationID), &r); err != nil {
				continue // the relation is gone, and the grant with it
			}
			scope = "relation-" + strings.NewReplacer(":", ".", " ", "#").Replace(r.Key) // a relation tag, as Juju
		}
		info.Access = append(info.Access, &apipb.SecretAccessInfo{Target: target, Scope: scope, Role: g.Role})
	}
	if revisions {
		for _, r := range sec.Revisions {
			ri := &apipb.SecretRevisionInfo{Revision: int32(r.Revision), Created: ts(r.Created), Updated: ts(r.Updated)}
			if r.Expire != nil {
				ri.Expires = ts(*r.Expire)
			}
			info.Revisions = append(info.Revisions, ri)
		}
	}
	return info
}

// --- users -------------------------------------------------------------------

// AddSecret implements apipb.ControllerServer.
func (s *Server) AddSecret(ctx context.Context, req *apipb.AddSecretRequest) (*apipb.AddSecretResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, invalid(errors.New("a secret needs a name: troupe add-secret <name> key=value..."))
	}
	if len(req.Content) == 0 {
		return nil, invalid(errors.New("a secret needs content: key=value arguments or --file"))
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	all, err := s.listSecrets(ctx, m.UUID)
	if err != nil {
		return nil, err
	}
	for _, sec := range all {
		if sec.Name == req.Name {
			return nil, status.Errorf(codes.AlreadyExists, "secret with name %q already exists; use `troupe update-secret %s`", req.Name, req.Name)
		}
	}
	id, err := newSecretID()
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealContent(req.Content)
	if err != nil {
		return nil, err
	}
	ch := secret.Change{Kind: secret.KindCreate, ID: id, OwnerKind: entity.SecretOwnerModel, Name: req.Name,
		Content: sealed, HasContent: true}
	if req.Description != "" {
		ch.Description = &req.Description
	}
	if _, err := s.applySecret(m.UUID, id, &secret.Apply{Changes: []secret.Change{ch}}); err != nil {
		return nil, err
	}
	return &apipb.AddSecretResult{Uri: "secret:" + id}, nil
}

// UpdateSecret implements apipb.ControllerServer.
func (s *Server) UpdateSecret(ctx context.Context, req *apipb.UpdateSecretRequest) (*apipb.UpdateSecretResult, error) {
	m, sec, err := s.userSecretFor(ctx, req.Model, req.Id)
	if err != nil {
		return nil, err
	}
	ch := secret.Change{Kind: secret.KindUpdate, Name: req.NewName, AutoPrune: req.AutoPrune}
	if req.HasDescription {
		ch.Description = &req.Description
	}
	if len(req.Content) > 0 {
		if ch.Content, err = s.sealContent(req.Content); err != nil {
			return nil, err
		}
		ch.HasContent = true
	}
	if !ch.HasContent && ch.Description == nil && ch.Name == "" && !ch.AutoPrune {
		return nil, invalid(errors.New("nothing to update: give new content, --info, --name or --auto-prune"))
	}
	_, err = s.applySecret(m.UUID, sec.ID, &secret.Apply{Changes: []secret.Change{ch}})
	return &apipb.UpdateSecretResult{}, err
}

// GrantSecret implements apipb.ControllerServer.
func (s *Server) GrantSecret(ctx context.Context, req *apipb.GrantSecretRequest) (*apipb.GrantSecretResult, error) {
	m, sec, err := s.userSecretFor(ctx, req.Model, req.Id)
	if err != nil {
		return nil, err
	}
	if len(req.Applications) == 0 {
		return nil, invalid(errors.New("name at least one application"))
	}
	var changes []secret.Change
	for _, app := range req.Applications {
		var a entity.Application
		if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(m.UUID, app), &a); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, status.Errorf(codes.NotFound, "application %q not found in model %q", app, m.Name)
			}
			return nil, err
		}
		kind := secret.KindGrant
		if req.Revoke {
			kind = secret.KindRevoke
		}
		changes = append(changes, secret.Change{Kind: kind, Grant: entity.SecretGrant{Target: app, RelationID: -1, Role: "view"}})
	}
	_, err = s.applySecret(m.UUID, sec.ID, &secret.Apply{Changes: changes})
	return &apipb.GrantSecretResult{}, err
}

// RemoveSecret implements apipb.ControllerServer.
func (s *Server) RemoveSecret(ctx context.Context, req *apipb.RemoveSecretRequest) (*apipb.RemoveSecretResult, error) {
	m, sec, err := s.userSecretFor(ctx, req.Model, req.Id)
	if err != nil {
		return nil, err
	}
	_, err = s.applySecret(m.UUID, sec.ID, &secret.Apply{Changes: []secret.Change{{Kind: secret.KindRemove, Revision: int(req.Revision)}}})
	return &apipb.RemoveSecretResult{}, err
}

// ListSecrets implements apipb.ControllerServer.
func (s *Server) ListSecrets(ctx context.Context, req *apipb.ListSecretsRequest) (*apipb.ListSecretsResult, error) {
	if err := requireUser(ctx); err != nil {
		return nil, err
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	var secs []*entity.Secret
	if req.Id != "" {
		all, err := s.listSecrets(ctx, m.UUID)
		if err != nil {
			return nil, err
		}
		for _, sec := range all {
			if sec.ID == bareSecretID(req.Id) || (sec.Name != "" && sec.Name == req.Id) {
				secs = append(secs, sec)
			}
		}
		if len(secs) == 0 {
			return nil, status.Errorf(codes.NotFound, "secret %q not found in model %q; see `troupe secrets`", req.Id, m.Name)
		}
	} else if secs, err = s.listSecrets(ctx, m.UUID); err != nil {
		return nil, err
	}
	res := &apipb.ListSecretsResult{}
	for _, sec := range secs {
		info := s.secretInfo(ctx, m.UUID, sec, req.Revisions)
		if req.Owner != "" && info.Owner != req.Owner {
			continue
		}
		if req.Reveal {
			rev := int(req.Revision)
			if rev == 0 {
				rev = sec.Latest()
			}
			content, err := s.unsealRevision(sec, rev)
			if err != nil {
				return nil, err
			}
			info.Content, info.HasContent = content, true
		}
		res.Secrets = append(res.Secrets, info)
	}
	return res, nil
}

// --- unit agents -------------------------------------------------------------

// ReadSecret implements apipb.ControllerServer.
func (s *Server) ReadSecret(ctx context.Context, req *apipb.ReadSecretRequest) (*apipb.ReadSecretResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	app, _, _ := entity.SplitUnitName(req.Unit)
	caller := secret.Caller{Unit: req.Unit, App: app}
	var sec *entity.Secret
	if req.Uri != "" {
		if sec, err = s.getSecret(ctx, tag.Model, req.Uri); err != nil {
			return nil, err
		}
	} else {
		all, err := s.listSecrets(ctx, tag.Model)
		if err != nil {
			return nil, err
		}
		for _, c := range all {
			own := secret.Owns(c, caller)
			if (own && c.Label == req.Label) || (!own && c.Consumers[req.Unit] != nil && c.Consumers[req.Unit].Label == req.Label) {
				sec = c
				break
			}
		}
	}
	notFound := status.Errorf(codes.NotFound, "secret %q not found", bareSecretID(req.Uri))
	if req.Uri == "" {
		notFound = status.Errorf(codes.NotFound, "secret with label %q not found", req.Label)
	}
	if sec == nil {
		return nil, notFound
	}
	ok, err := s.secretAccess(ctx, tag.Model, sec, req.Unit, app)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound // as Juju: a secret not granted is not found
	}
	res := &apipb.ReadSecretResult{Uri: sec.URI(), LatestRevision: int32(sec.Latest()), Owner: secret.Owns(sec, caller)}
	rev := sec.Latest()
	if res.Owner {
		res.Label = sec.Label
	} else if c := sec.Consumers[req.Unit]; c != nil {
		res.TrackedRevision, res.Label = int32(c.Tracked), c.Label
		if req.Revision == 0 && c.Tracked > 0 {
			rev = c.Tracked
		}
	}
	if req.Revision > 0 {
		rev = int(req.Revision)
	}
	content, err := s.unsealRevision(sec, rev)
	if err != nil {
		return nil, err
	}
	res.Revision, res.Content = int32(rev), content
	return res, nil
}

// OwnedSecrets implements apipb.ControllerServer.
func (s *Server) OwnedSecrets(ctx context.Context, req *apipb.OwnedSecretsRequest) (*apipb.OwnedSecretsResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	app, _, _ := entity.SplitUnitName(req.Unit)
	all, err := s.listSecrets(ctx, tag.Model)
	if err != nil {
		return nil, err
	}
	res := &apipb.OwnedSecretsResult{}
	for _, sec := range all {
		if secret.Owns(sec, secret.Caller{Unit: req.Unit, App: app}) {
			res.Secrets = append(res.Secrets, s.secretInfo(ctx, tag.Model, sec, false))
		}
	}
	return res, nil
}

// unitSecretEvents computes the secret hooks due for unit u now from the
// model's secret documents (secret.Events), in a stable order, and when
// the next time-based one falls due (unix ms, 0 none).
func (s *Server) unitSecretEvents(ctx context.Context, model string, u entity.Unit) ([]*apipb.SecretEvent, int64, error) {
	all, err := s.listSecrets(ctx, model)
	if err != nil {
		return nil, 0, err
	}
	now := time.Now()
	var out []*apipb.SecretEvent
	var next *time.Time
	for _, sec := range all {
		ok := false
		if c := sec.Consumers[u.Name]; c != nil {
			if ok, err = s.secretAccess(ctx, model, sec, u.Name, u.Application); err != nil {
				return nil, 0, err
			}
		}
		for _, ev := range secret.Events(sec, u.Name, u.Application, ok, now) {
			out = append(out, &apipb.SecretEvent{Kind: ev.Kind, Uri: ev.URI, Label: ev.Label, Revision: int32(ev.Revision), LeaderOnly: ev.LeaderOnly})
		}
		if t := secret.NextDue(sec, u.Name, u.Application, now); t != nil && (next == nil || t.Before(*next)) {
			next = t
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Uri != out[j].Uri {
			return out[i].Uri < out[j].Uri
		}
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Revision < out[j].Revision
	})
	var due int64
	if next != nil {
		due = next.UnixMilli()
	}
	return out, due, nil
}

// commitSecrets applies a hook's secret changes, grouped per secret in
// the order first touched; each secret's actor applies its group once per
// (stream, seq). Changes a redelivery cannot fix (the secret is gone, the
// unit lost leadership) are logged and dropped so the unit's outbox does
// not stall.
func (s *Server) commitSecrets(ctx context.Context, tag entity.Tag, req *apipb.CommitHookRequest) error {
	if len(req.Secrets) == 0 {
		return nil
	}
	app, _, _ := entity.SplitUnitName(req.Unit)
	leader, err := s.isLeader(ctx, tag)
	if err != nil {
		return err
	}
	caller := secret.Caller{Unit: req.Unit, App: app, Leader: leader}
	var order []string
	groups := map[string][]secret.Change{}
	for _, c := range req.Secrets {
		id := bareSecretID(c.Uri)
		ch, err := s.secretChange(ctx, tag.Model, req.Unit, app, id, c)
		if err != nil {
			return err
		}
		if _, seen := groups[id]; !seen {
			order = append(order, id)
		}
		groups[id] = append(groups[id], ch)
	}
	for _, id := range order {
		_, err := s.applySecret(tag.Model, id, &secret.Apply{Caller: caller,
			Commit: entity.SecretCommit{Stream: req.Stream, Seq: req.Seq}, Changes: groups[id]})
		switch status.Code(err) {
		case codes.OK:
		case codes.NotFound, codes.PermissionDenied, codes.AlreadyExists:
			s.log().Warn("dropped secret changes of a hook commit", "unit", req.Unit, "hook", req.Hook, "secret", id, "err", err)
		default:
			return fmt.Errorf("cannot commit hook %q: secret %s: %w", req.Hook, id, err)
		}
	}
	return nil
}

func (s *Server) secretChange(ctx context.Context, model, unit, app, id string, c *apipb.SecretChange) (secret.Change, error) {
	ch := secret.Change{Kind: c.Kind, ID: id, Revision: int(c.Revision), Hook: c.Hook}
	if c.HasLabel {
		ch.Label = &c.Label
	}
	if c.HasDescription {
		ch.Description = &c.Description
	}
	if c.Rotate != "" {
		ch.Rotate = &c.Rotate
	}
	if c.Expire != "" {
		t, err := time.Parse(time.RFC3339, c.Expire)
		if err != nil {
			return ch, invalid(fmt.Errorf("secret %s: expire %q: %w", id, c.Expire, err))
		}
		ch.Expire = &t
	}
	if c.HasContent {
		sealed, err := s.sealContent(c.Content)
		if err != nil {
			return ch, err
		}
		ch.Content, ch.HasContent = sealed, true
	}
	switch c.Kind {
	case secret.KindCreate:
		ch.OwnerKind, ch.Owner = entity.SecretOwnerApplication, app
		if c.Owner == entity.SecretOwnerUnit {
			ch.OwnerKind, ch.Owner = entity.SecretOwnerUnit, unit
		}
	case secret.KindTrack:
		ch.ConsumerLabel = ch.Label
		ch.Label = nil
	case secret.KindGrant, secret.KindRevoke:
		ch.Grant = entity.SecretGrant{RelationID: -1, Role: "view"}
		switch {
		case c.Unit != "":
			ch.Grant.Target, ch.Grant.Unit = c.Unit, true
		case c.Application != "":
			ch.Grant.Target = c.Application
		}
		if c.RelationId >= 0 {
			ch.Grant.RelationID = int(c.RelationId)
			var r entity.Relation
			if _, err := s.cfg.Store.Get(ctx, entity.RelationKey(model, int(c.RelationId)), &r); err != nil {
				if errors.Is(err, store.ErrNotFound) && c.Kind == secret.KindRevoke {
					return ch, nil
				}
				return ch, fmt.Errorf("secret %s: relation %d: %w", id, c.RelationId, err)
			}
			if _, in := r.Endpoint(app); !in {
				return ch, status.Errorf(codes.PermissionDenied, "secret %s: %s is not in relation %d", id, unit, c.RelationId)
			}
			if ch.Grant.Target == "" {
				ch.Grant.Target = r.RemoteApp(app)
			}
		}
	}
	return ch, nil
}

func (s *Server) log() *slog.Logger {
	if s.cfg.Logger != nil {
		return s.cfg.Logger
	}
	return slog.Default()
}
