package apiserver

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// TestToStatusStoreUnavailable: a handler error that is the store not
// serving (a stopping controller) reaches agents as Unavailable, which
// they wait out; other plain errors stay Unknown.
func TestToStatusStoreUnavailable(t *testing.T) {
	if got := status.Code(toStatus(fmt.Errorf("cannot read /troupe/m/x: %w", rpctypes.ErrStopped))); got != codes.Unavailable {
		t.Errorf("store stopped: %v; want Unavailable", got)
	}
	if got := status.Code(toStatus(errors.New("cannot decode /troupe/m/x"))); got != codes.Unknown {
		t.Errorf("plain error: %v; want Unknown", got)
	}
}

// TestCredentialsWhenTheStoreIsDown: an agent whose entity cannot be read
// because the store is closed gets Unavailable (come back later), not
// "invalid credentials"; an unknown agent with a serving store still gets
// Unauthenticated.
func TestCredentialsWhenTheStoreIsDown(t *testing.T) {
	st, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{Store: st}}
	tag := entity.Tag{Kind: entity.KindUnit, Name: "a/0", Model: entity.NewUUID()}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(api.MDTag, tag.String(), api.MDPassword, "pw"))
	if _, err := s.checkCredentials(ctx); status.Code(err) != codes.Unauthenticated {
		t.Errorf("unknown unit, store serving: %v; want Unauthenticated", err)
	}
	st.Close()
	if _, err := s.checkCredentials(ctx); status.Code(err) != codes.Unavailable {
		t.Errorf("store closed: %v; want Unavailable", err)
	}
}
