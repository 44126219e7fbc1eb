package apiserver

import (
	"context"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

type callerKey struct{}

func callerFrom(ctx context.Context) entity.Tag {
	t, _ := ctx.Value(callerKey{}).(entity.Tag)
	return t
}

func (s *Server) authenticate(ctx context.Context) (context.Context, error) {
	if err := s.throttleLogin(ctx); err != nil {
		return nil, err
	}
	actx, err := s.checkCredentials(ctx)
	if err != nil {
		loginFailed(ctx)
		return nil, err
	}
	return actx, nil
}

// checkCredentials verifies the call's tag and password and returns ctx
// carrying the caller.
func (s *Server) checkCredentials(ctx context.Context) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	get := func(k string) string {
		if v := md.Get(k); len(v) == 1 {
			return v[0]
		}
		return ""
	}
	tagStr, pw := get(api.MDTag), get(api.MDPassword)
	if tagStr == "" || pw == "" {
		return nil, status.Error(codes.Unauthenticated, "no credentials supplied; run `troupe bootstrap` or check the agent config")
	}
	tag, err := entity.ParseTag(tagStr)
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, "invalid credentials")
	}
	var f credFields
	switch tag.Kind {
	case entity.KindUser:
		if wait := s.guard.blocked(tag.Name); wait > 0 {
			return nil, loginBlocked(tag.Name, wait)
		}
		f, err = s.credentials(ctx, tag, entity.UserKey(tag.Name), pw)
	case entity.KindMachine, entity.KindUnit:
		f, err = s.credentials(ctx, tag, agentDocKey(tag), pw)
	}
	hash, pending := f.Hash, f.Pending
	if store.Unavailable(err) {
		// Not a verdict on the credentials: the store could not answer
		// (the controller starting or stopping).
		return nil, status.Errorf(codes.Unavailable, "cannot verify credentials now: %v", err)
	}
	if err == nil && pending != "" && !s.guard.check(tag.String(), hash, pw) && s.guard.check(tag.String(), pending, pw) {
		// A rotated credential's first use: it becomes the only one.
		if err := s.promoteMachineCredential(tag, pending); err != nil {
			return nil, status.Errorf(codes.Unavailable, "cannot record the new credential: %v", err)
		}
		hash = pending
	}
	if err != nil || !s.guard.check(tag.String(), hash, pw) {
		if tag.Kind == entity.KindUser {
			s.guard.failed(tag.Name)
		}
		return nil, status.Error(codes.Unauthenticated, "invalid credentials")
	}
	if tag.Kind == entity.KindUser {
		s.guard.succeeded(tag.Name)
		usr := *f.User
		usr.Superuser = usr.Superuser || usr.Name == "admin" // the bootstrap user
		ctx = context.WithValue(ctx, callerUserKey{}, usr)
	}
	return context.WithValue(ctx, callerKey{}, tag), nil
}

// agentDocKey is the document holding an agent's credential.
func agentDocKey(tag entity.Tag) string {
	if tag.Kind == entity.KindMachine {
		return entity.MachineKey(tag.Model, tag.Name)
	}
	return entity.UnitKey(tag.Model, tag.Name)
}

// credentials returns the credential fields of the document at key: the
// cached ones when pw matches them, otherwise (not cached, or a
// credential just issued, rotated or revoked) a fresh read's.
func (s *Server) credentials(ctx context.Context, tag entity.Tag, key, pw string) (credFields, error) {
	if f, ok := s.creds.lookup(key); ok && s.guard.check(tag.String(), f.Hash, pw) {
		return f, nil
	}
	return s.readCreds(ctx, key)
}

// readCreds reads the credential fields of the document at key (an
// agent's, or a user's) from the store and records them in the cache.
func (s *Server) readCreds(ctx context.Context, key string) (credFields, error) {
	var f credFields
	var rev int64
	var err error
	if isUserKey(key) {
		var u entity.User
		rev, err = s.cfg.Store.Get(ctx, key, &u)
		f = credFields{Hash: u.PasswordHash, User: &u}
	} else {
		rev, err = s.cfg.Store.Get(ctx, key, &f)
	}
	if err == nil {
		s.creds.fill(key, rev, f)
	}
	return f, err
}

// refreshCreds brings the cached credential of tag up to date after the
// server changed it (revoked, promoted), so that the next call is judged
// on the new one whatever the watch has delivered yet.
func (s *Server) refreshCreds(tag entity.Tag) {
	ctx, cancel := context.WithTimeout(context.Background(), askTimeout)
	defer cancel()
	if _, err := s.readCreds(ctx, agentDocKey(tag)); err != nil {
		s.creds.reset()
	}
}

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	ctx, err := s.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, info.FullMethod, req); err != nil {
		return nil, toStatus(err)
	}
	if m, ok := req.(proto.Message); ok {
		if err := checkLimits(m); err != nil {
			return nil, err
		}
	}
	resp, err := h(ctx, req)
	return resp, toStatus(err)
}

type authStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (a authStream) Context() context.Context { return a.ctx }

func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx, err := s.authenticate(ss.Context())
	if err != nil {
		return err
	}
	ctx, done := s.streams.track(ctx, callerFrom(ctx).String())
	defer done()
	err = h(srv, &authzStream{ServerStream: authStream{ss, ctx}, s: s, method: info.FullMethod})
	return toStatus(streamEnd(ctx, err))
}

var errPerm = status.Error(codes.PermissionDenied, "permission denied")

func requireUser(ctx context.Context) error {
	if callerFrom(ctx).Kind != entity.KindUser {
		return errPerm
	}
	return nil
}

func requireMachine(ctx context.Context, id string) (entity.Tag, error) {
	t := callerFrom(ctx)
	if t.Kind != entity.KindMachine || t.Name != id {
		return t, errPerm
	}
	return t, nil
}

func requireUnit(ctx context.Context, unit string) (entity.Tag, error) {
	t := callerFrom(ctx)
	if t.Kind != entity.KindUnit || t.Name != unit {
		return t, errPerm
	}
	return t, nil
}

// toStatus keeps status errors and maps everything else to a code.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var inv *invalidError
	if errors.As(err, &inv) {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, err.Error())
	}
	if store.Unavailable(err) {
		// Agents wait for the controller to come back, rather than take
		// it as their call failing (a worker restart after a delay).
		return status.Error(codes.Unavailable, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

type invalidError struct{ err error }

func (e *invalidError) Error() string { return e.err.Error() }
func (e *invalidError) Unwrap() error { return e.err }

func invalid(err error) error { return &invalidError{err} }
