package hooktool_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/internal/hookcmds/hookcmdstest"
	"github.com/troupe-dev/troupe/internal/hooktool"
	"github.com/troupe-dev/troupe/internal/hooktool/wire"
)

// TestPeerCredentialsChecked: a connection from a process of a uid other
// than the one the server serves is refused (SO_PEERCRED), whatever its
// context id; the agent's own uid is served.
func TestPeerCredentialsChecked(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		uid  int
		want string
	}{
		{"own uid", os.Getuid(), "active\n"},
		{"other uid", os.Getuid() + 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			socket := filepath.Join(dir, tc.name)
			srv, err := hooktool.NewServer(socket, hookcmds.Serve, hooktool.WithPeerUID(tc.uid))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			end := srv.Begin("c1", hookcmdstest.NewContext(fixture()))
			defer end()
			resp, err := wire.Call(socket, hooktool.Request{ContextID: "c1", Dir: dir, Command: "status-get"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Stdout) != tc.want {
				t.Errorf("stdout %q, want %q", resp.Stdout, tc.want)
			}
			if tc.want == "" {
				wantErr := fmt.Sprintf("ERROR connection refused: the hook tool runs as uid %d, the unit agent serves only uid %d\n", os.Getuid(), tc.uid)
				if resp.Code != 1 || string(resp.Stderr) != wantErr {
					t.Errorf("refusal: code %d stderr %q, want 1 %q", resp.Code, resp.Stderr, wantErr)
				}
			}
		})
	}
}
