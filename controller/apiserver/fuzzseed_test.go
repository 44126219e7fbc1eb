package apiserver

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "rewrite testdata/fuzz/FuzzDecodeRequest")

// TestWriteFuzzSeeds (with -write-fuzz-seeds) writes the seed corpus of
// FuzzDecodeRequest: one real request per RPC.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to rewrite the corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeRequest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	reqs := map[string]proto.Message{
		"UnitSnapshot": &apipb.UnitSnapshotRequest{Unit: "a/0"},
		"Status":       &apipb.StatusRequest{Model: "default"},
		"CommitHook":   &apipb.CommitHookRequest{Unit: "a/0", Stream: "s", Seq: 3},
		"ListSecrets":  &apipb.ListSecretsRequest{Model: "default", Reveal: true},
		"SetConfig":    &apipb.SetConfigRequest{Model: "default", Application: "a", Values: map[string]string{"k": "v"}},
	}
	methods := apipb.File_troupe_proto.Services().ByName("Controller").Methods()
	for i := 0; i < methods.Len(); i++ {
		m, ok := reqs[string(methods.Get(i).Name())]
		if !ok {
			continue
		}
		data, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\nuint8(%d)\n[]byte(%q)\n", i, data)
		if err := os.WriteFile(filepath.Join(dir, "seed-"+string(methods.Get(i).Name())), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
