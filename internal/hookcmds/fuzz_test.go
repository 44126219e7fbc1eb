package hookcmds_test

import (
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/internal/hookcmds/hookcmdstest"
)

// FuzzRun feeds every hook tool arbitrary arguments (NUL-separated) and
// stdin: Run must never panic and always answer with a complete result
// (an exit code, and on failure a message). Corpus: testdata/fuzz/FuzzRun/.
func FuzzRun(f *testing.F) {
	f.Add(uint8(0), "-r\x00db:1\x00--app\x00key", []byte(""))
	f.Add(uint8(3), "--format=json\x00-", []byte("a=b\n"))
	f.Add(uint8(7), "active\x00message with spaces", []byte(""))
	names := hookcmds.ToolNames()
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, tool uint8, args string, stdin []byte) {
		u := hookcmdstest.NewUnit("app/0")
		ctx := hookcmdstest.NewContext(u)
		var argv []string
		if args != "" {
			argv = strings.Split(args, "\x00")
		}
		inv := hookcmds.Invocation{Name: names[int(tool)%len(names)], Args: argv, Dir: dir,
			Stdin: func() ([]byte, error) { return stdin, nil }}
		r := hookcmds.Run(ctx, inv)
		if r.Code != 0 && len(r.Stderr) == 0 {
			t.Fatalf("%s %q: exit %d without a message", inv.Name, argv, r.Code)
		}
	})
}
