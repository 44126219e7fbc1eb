package apiserver

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
)

// FuzzDecodeRequest decodes arbitrary bytes as the request of any RPC
// and runs the authorization decision on it for each identity kind, and
// the size limits: no panic, and the answer is allowed or
// PermissionDenied (InvalidArgument for limits), nothing else.
// Corpus: testdata/fuzz/FuzzDecodeRequest/.
func FuzzDecodeRequest(f *testing.F) {
	seed, _ := proto.Marshal(&apipb.UnitSnapshotRequest{Unit: "a/0"})
	f.Add(uint8(0), seed)
	seed, _ = proto.Marshal(&apipb.StatusRequest{Model: "default"})
	f.Add(uint8(4), seed)
	methods := apipb.File_troupe_proto.Services().ByName("Controller").Methods()
	look := fakeLookups{models: map[string]string{"default": "u1"}, machines: map[string]string{"a/0": "0"}}
	callers := []caller{
		{tag: entity.Tag{Kind: entity.KindUnit, Name: "a/0", Model: "u1"}},
		{tag: entity.Tag{Kind: entity.KindMachine, Name: "0", Model: "u1"}},
		{tag: entity.Tag{Kind: entity.KindUser, Name: "r"}, user: entity.User{Access: map[string]entity.Access{"u1": entity.AccessRead}}},
		{tag: entity.Tag{Kind: entity.KindUser, Name: "admin"}, user: entity.User{Superuser: true}},
	}
	f.Fuzz(func(t *testing.T, i uint8, data []byte) {
		md := methods.Get(int(i) % methods.Len())
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
		if err != nil {
			t.Fatal(err)
		}
		req := mt.New().Interface()
		if proto.Unmarshal(data, req) != nil {
			return
		}
		if err := checkLimits(req); err != nil && status.Code(err) != codes.InvalidArgument {
			t.Fatalf("%s limits: %v", md.Name(), err)
		}
		for _, c := range callers {
			err := decide(context.Background(), c, method(string(md.Name())), req, look)
			if err != nil && !errors.Is(err, errPerm) {
				t.Fatalf("%s by %s: %v", md.Name(), c.tag, err)
			}
		}
	})
}
