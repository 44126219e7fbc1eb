package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// Users are not actors: a user document is written only here, each write
// conditional on the revision it was read at (a concurrent change makes
// the call fail with Aborted, to be retried).

var validUserName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9.+-]*[a-zA-Z0-9]$|^[a-zA-Z0-9]$`)

const minPasswordLen = 8

func checkNewPassword(pw string) error {
	if len(pw) < minPasswordLen {
		return invalid(fmt.Errorf("password too short: use at least %d characters", minPasswordLen))
	}
	if len(pw) > 1024 {
		return invalid(errors.New("password too long: use at most 1024 characters"))
	}
	return nil
}

// AddUser implements apipb.ControllerServer.
func (s *Server) AddUser(ctx context.Context, req *apipb.AddUserRequest) (*apipb.AddUserResult, error) {
	if !validUserName.MatchString(req.Name) || len(req.Name) > 64 {
		return nil, invalid(fmt.Errorf("invalid user name %q: use letters, digits, '.', '+' and '-'", req.Name))
	}
	if err := checkNewPassword(req.Password); err != nil {
		return nil, err
	}
	op, err := store.Put(entity.UserKey(req.Name), entity.User{Name: req.Name, DisplayName: req.DisplayName,
		PasswordHash: entity.HashUserPassword(req.Password)})
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Store.CommitIf(ctx, []store.Cond{store.Absent(entity.UserKey(req.Name))}, op); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, status.Errorf(codes.AlreadyExists, "user %q already exists", req.Name)
		}
		return nil, err
	}
	return &apipb.AddUserResult{}, nil
}

// updateUser reads a user, applies f and writes it back if nothing
// changed it meanwhile.
func (s *Server) updateUser(ctx context.Context, name string, f func(*entity.User) error) error {
	var u entity.User
	rev, err := s.cfg.Store.Get(ctx, entity.UserKey(name), &u)
	if errors.Is(err, store.ErrNotFound) {
		return status.Errorf(codes.NotFound, "user %q not found; see `troupe add-user`", name)
	}
	if err != nil {
		return err
	}
	if err := f(&u); err != nil {
		return err
	}
	op, err := store.Put(entity.UserKey(name), u)
	if err != nil {
		return err
	}
	crev, err := s.cfg.Store.CommitIf(ctx, []store.Cond{store.Unchanged(entity.UserKey(name), rev)}, op)
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return status.Errorf(codes.Aborted, "user %q changed meanwhile; try again", name)
		}
		return err
	}
	// The next call of this user is judged on the new document (a changed
	// password, a revoked access) whatever the watch delivered yet.
	s.creds.fill(entity.UserKey(name), crev, credFields{Hash: u.PasswordHash, User: &u})
	return nil
}

// GrantAccess implements apipb.ControllerServer. The caller is admin of
// the model (checked by the rule table).
func (s *Server) GrantAccess(ctx context.Context, req *apipb.GrantAccessRequest) (*apipb.GrantAccessResult, error) {
	level, err := entity.ParseAccess(req.Access)
	if err != nil {
		return nil, invalid(err)
	}
	m, err := s.modelByName(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	err = s.updateUser(ctx, req.User, func(u *entity.User) error {
		if u.Superuser || u.Name == "admin" {
			return status.Errorf(codes.FailedPrecondition, "user %q is the controller superuser: its access cannot change", u.Name)
		}
		cur := u.Access[m.UUID]
		next := level
		if req.Revoke {
			if !cur.Includes(level) {
				return status.Errorf(codes.FailedPrecondition, "user %q does not have %q access to model %q", u.Name, level, m.Name)
			}
			next = level.Lower()
		} else if cur.Includes(level) {
			return status.Errorf(codes.AlreadyExists, "user %q already has %q access or greater to model %q", u.Name, level, m.Name)
		}
		if u.Access == nil {
			u.Access = map[string]entity.Access{}
		}
		if next == entity.AccessNone {
			delete(u.Access, m.UUID)
		} else {
			u.Access[m.UUID] = next
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &apipb.GrantAccessResult{}, nil
}

// ChangeUserPassword implements apipb.ControllerServer: a user changes
// their own password; the superuser anyone's.
func (s *Server) ChangeUserPassword(ctx context.Context, req *apipb.ChangeUserPasswordRequest) (*apipb.ChangeUserPasswordResult, error) {
	me := callerFrom(ctx).Name
	name := req.User
	if name == "" {
		name = me
	}
	if name != me && !callerUser(ctx).Superuser {
		return nil, errPerm
	}
	if err := checkNewPassword(req.Password); err != nil {
		return nil, err
	}
	hash := entity.HashUserPassword(req.Password)
	if err := s.updateUser(ctx, name, func(u *entity.User) error { u.PasswordHash = hash; return nil }); err != nil {
		return nil, err
	}
	return &apipb.ChangeUserPasswordResult{}, nil
}

// WhoAmI implements apipb.ControllerServer.
func (s *Server) WhoAmI(ctx context.Context, _ *apipb.WhoAmIRequest) (*apipb.WhoAmIResult, error) {
	t := callerFrom(ctx)
	res := &apipb.WhoAmIResult{Tag: t.String()}
	if t.Kind != entity.KindUser {
		return res, nil
	}
	u := callerUser(ctx)
	res.Superuser = u.Superuser
	kvs, _, err := s.cfg.Store.List(ctx, entity.ModelsPrefix)
	if err != nil {
		return nil, err
	}
	res.Access = map[string]string{}
	for _, kv := range kvs {
		var m entity.Model
		if json.Unmarshal(kv.Value, &m) != nil {
			continue
		}
		if a := u.ModelAccess(m.UUID); a != entity.AccessNone {
			res.Access[m.Name] = string(a)
		}
	}
	return res, nil
}

// mayListModel is ListModels' filter: the models the user has any
// access to.
func mayListModel(u entity.User, uuid string) bool { return u.ModelAccess(uuid) != entity.AccessNone }
