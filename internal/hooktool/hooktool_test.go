package hooktool_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/internal/hookcmds/hookcmdstest"
	"github.com/troupe-dev/troupe/internal/hooktool"
	"github.com/troupe-dev/troupe/internal/hooktool/wire"
)

// client is one build of the hook tool client: the Go reference
// (cmd/hooktool) or the native one `make build` ships
// (cmd/hooktool/native). Every client-level test runs against both.
type client struct {
	name string
	path string
}

var (
	buildOnce sync.Once
	built     []client
	buildErr  error
)

// clients builds both clients once per test binary, the native one with
// `make hooktool` as `make build` does (it needs a C compiler with a
// static libc: gcc and libc6-dev on Debian).
func clients(t testing.TB) []client {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hooktool-bin")
		if err != nil {
			buildErr = err
			return
		}
		goBin := filepath.Join(dir, "go", "hooktool")
		out, err := exec.Command("go", "build", "-o", goBin, "../../cmd/hooktool").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build cmd/hooktool: %v\n%s", err, out)
			return
		}
		nativeDir := filepath.Join(dir, "native")
		cmd := exec.Command("make", "--no-print-directory", "-C", "../..", "hooktool", "HOOKTOOL=native", "BIN="+nativeDir)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("make hooktool (needs cc and a static libc: install gcc and libc6-dev, as .ci/run does): %v\n%s", err, out)
			return
		}
		nativeBin := filepath.Join(nativeDir, "hooktool")
		built = []client{{"go", goBin}, {"native", nativeBin}}
	})
	if buildErr != nil {
		t.Fatalf("cannot build the client binaries: %v", buildErr)
	}
	return built
}

// shipped is the client `make build` installs as bin/hooktool.
func shipped(t testing.TB) string { return clients(t)[1].path }

type agent struct {
	srv    *hooktool.Server[hookcmds.Context]
	socket string
	tools  string
}

func startAgent(t testing.TB, clientBin string) *agent {
	dir := t.TempDir()
	socket := filepath.Join(dir, "agent.socket")
	srv, err := hooktool.NewServer(socket, hookcmds.Serve)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tools := filepath.Join(dir, "tools")
	if err := hooktool.EnsureSymlinks(tools, clientBin, hooktool.ToolNames); err != nil {
		t.Fatal(err)
	}
	return &agent{srv: srv, socket: socket, tools: tools}
}

type result struct {
	stdout, stderr string
	code           int
}

func (a *agent) run(t testing.TB, contextID, stdin string, argv ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(a.tools, argv[0]), argv[1:]...)
	cmd.Env = []string{"JUJU_AGENT_SOCKET_ADDRESS=" + a.socket, "JUJU_AGENT_SOCKET_NETWORK=unix"}
	if contextID != "" {
		cmd.Env = append(cmd.Env, "JUJU_CONTEXT_ID="+contextID)
	}
	cmd.Dir = a.tools
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errOut.String(), code}
}

func fixture() *hookcmdstest.Unit {
	u := hookcmdstest.NewUnit("app/0")
	u.Status = hookcmds.StatusInfo{Status: "active"}
	u.Leader = true
	u.Rels[2] = &hookcmdstest.Relation{Info: hookcmds.RelationInfo{ID: 2, Endpoint: "db", RemoteApp: "mysql"}}
	return u
}

func TestClientBinaryAgainstServer(t *testing.T) {
	for _, c := range clients(t) {
		t.Run(c.name, func(t *testing.T) { testClientAgainstServer(t, c.path) })
	}
}

func testClientAgainstServer(t *testing.T, clientBin string) {
	a := startAgent(t, clientBin)
	u := fixture()
	hs := hookcmdstest.NewContext(u)
	end := a.srv.Begin("app/0-install-1", hs)

	cases := []struct {
		name, ctx, stdin string
		argv             []string
		want             result
	}{
		{"status-get", "app/0-install-1", "", []string{"status-get"}, result{"active\n", "", 0}},
		{"json", "app/0-install-1", "", []string{"is-leader", "--format=json"}, result{"true\n", "", 0}},
		{"stdin retry", "app/0-install-1", `{"k": "v"}`, []string{"relation-set", "-r", "db:2", "--file", "-"}, result{"", "", 0}},
		{"flag error exit 2", "app/0-install-1", "", []string{"status-get", "--bogus"}, result{"", "ERROR option provided but not defined: --bogus\n", 2}},
		{"bad relation exit 2", "app/0-install-1", "", []string{"relation-list", "-r", "9"}, result{"", "ERROR invalid value \"9\" for option -r: relation not found\n", 2}},
		{"runtime error exit 1", "app/0-install-1", "", []string{"resource-get", "nope"}, result{"", "ERROR resource \"nope\" not found\n", 1}},
		{"wrong context", "other-ctx", "", []string{"status-get"}, result{"", "ERROR bad request: wrong context ID; got \"other-ctx\"\n", 1}},
		{"no context", "", "", []string{"status-get"}, result{"", "ERROR JUJU_CONTEXT_ID not set\n", 1}},
		{"hooktool form", "app/0-install-1", "", []string{"../hooktool", "config-get", "--format", "json"}, result{"{}\n", "", 0}},
		{"unknown command", "app/0-install-1", "", []string{"../hooktool", "nope"}, result{"", "ERROR bad request: unknown command: nope\n", 1}},
	}
	if err := os.Symlink(clientBin, filepath.Join(filepath.Dir(a.tools), "hooktool")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := a.run(t, tc.ctx, tc.stdin, tc.argv...)
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
	end()
	ch := hs.Changes()
	if got := ch.RelationSettings[2].Unit; len(got) != 1 || got["k"] != "v" {
		t.Errorf("relation-set via stdin: got %v", ch.RelationSettings)
	}
	if got := a.run(t, "app/0-install-1", "", "status-get"); got.code != 1 || !strings.Contains(got.stderr, "wrong context ID") {
		t.Errorf("after end: %+v", got)
	}
	a.srv.Close()
	if got := a.run(t, "app/0-install-1", "", "status-get"); got.code != 1 || !strings.HasPrefix(got.stderr, "ERROR cannot connect to unit agent") {
		t.Errorf("after close: %+v", got)
	}
}

// echoServer serves every request with a report of what reached it, so
// tests can check exactly what the client sent.
func echoServer(t *testing.T) (socket string) {
	socket = filepath.Join(t.TempDir(), "echo.socket")
	srv, err := hooktool.NewServer(socket, func(_ struct{}, req hooktool.Request, stdin hooktool.StdinFunc) hooktool.Response {
		var out strings.Builder
		fmt.Fprintf(&out, "command=%q dir=%q\n", req.Command, req.Dir)
		for _, a := range req.Args {
			fmt.Fprintf(&out, "arg=%q\n", a)
		}
		code := 0
		if len(req.Args) > 0 && req.Args[0] == "--stdin" {
			in, err := stdin()
			if err != nil {
				return hooktool.Response{Code: 1, Stderr: []byte(err.Error())}
			}
			fmt.Fprintf(&out, "stdin=%d bytes\n", len(in))
		}
		if len(req.Args) > 0 && req.Args[0] == "--exit" {
			code = 7
		}
		return hooktool.Response{Code: code, Stdout: []byte(out.String()), Stderr: []byte("to stderr\n")}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	srv.Begin("ctx", struct{}{})
	return socket
}

// TestClientBinarySendsArgvDirAndStdin checks what the client binary puts
// on the wire: argv byte for byte, the logical working directory ($PWD
// through a symlink), stdin only on demand, the exit code and both output
// streams, and its refusal of non-unix networks.
func TestClientBinarySendsArgvDirAndStdin(t *testing.T) {
	for _, c := range clients(t) {
		t.Run(c.name, func(t *testing.T) { testClientSends(t, c.path) })
	}
}

func testClientSends(t *testing.T, clientBin string) {
	socket := echoServer(t)
	dir := t.TempDir()
	tools := filepath.Join(dir, "tools")
	if err := hooktool.EnsureSymlinks(tools, clientBin, []string{"relation-set"}); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "charm")
	link := filepath.Join(dir, "charm-link")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	base := []string{"JUJU_CONTEXT_ID=ctx", "JUJU_AGENT_SOCKET_ADDRESS=" + socket}
	bigStdin := strings.Repeat("x", 3<<20)
	cases := []struct {
		name   string
		env    []string
		cmdDir string
		stdin  string
		args   []string
		want   result
	}{
		{"argv bytes", base, real, "", []string{"a b", "", "new\nline", "\xff", "--"},
			result{"command=\"relation-set\" dir=\"" + real + "\"\narg=\"a b\"\narg=\"\"\narg=\"new\\nline\"\narg=\"\\xff\"\narg=\"--\"\n", "to stderr\n", 0}},
		{"logical dir", append([]string{"PWD=" + link}, base...), link, "", nil,
			result{"command=\"relation-set\" dir=\"" + link + "\"\n", "to stderr\n", 0}},
		{"stale PWD", append([]string{"PWD=" + dir}, base...), real, "", nil,
			result{"command=\"relation-set\" dir=\"" + real + "\"\n", "to stderr\n", 0}},
		{"stdin on demand", base, real, bigStdin, []string{"--stdin"},
			result{"command=\"relation-set\" dir=\"" + real + "\"\narg=\"--stdin\"\nstdin=3145728 bytes\n", "to stderr\n", 0}},
		{"exit code", base, real, "", []string{"--exit"},
			result{"command=\"relation-set\" dir=\"" + real + "\"\narg=\"--exit\"\n", "to stderr\n", 7}},
		{"tcp refused", append([]string{"JUJU_AGENT_SOCKET_NETWORK=tcp"}, base...), real, "", nil,
			result{"", "ERROR JUJU_AGENT_SOCKET_NETWORK tcp is not supported: Troupe serves hook tools on a unix socket only\n", 1}},
		{"no socket address", []string{"JUJU_CONTEXT_ID=ctx"}, real, "", nil,
			result{"", "ERROR JUJU_AGENT_SOCKET_ADDRESS not set\n", 1}},
		{"no agent", []string{"JUJU_CONTEXT_ID=ctx", "JUJU_AGENT_SOCKET_ADDRESS=" + filepath.Join(dir, "none")}, real, "", nil,
			result{"", "ERROR cannot connect to unit agent at " + filepath.Join(dir, "none") + ": no such file or directory\n", 1}},
		{"socket path too long", []string{"JUJU_CONTEXT_ID=ctx", "JUJU_AGENT_SOCKET_ADDRESS=/" + strings.Repeat("x", 120)}, real, "", nil,
			result{"", "ERROR cannot connect to unit agent at /" + strings.Repeat("x", 120) + ": invalid argument\n", 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(tools, "relation-set"), tc.args...)
			cmd.Env = tc.env
			cmd.Dir = tc.cmdDir
			cmd.Stdin = strings.NewReader(tc.stdin)
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err := cmd.Run()
			got := result{out.String(), errOut.String(), cmd.ProcessState.ExitCode()}
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestServerSocketAndStaleness(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "agent.socket")
	if err := os.WriteFile(socket, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := hooktool.NewServer(socket, hookcmds.Serve)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v", fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftover files: %v", entries)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(socket); !os.IsNotExist(err) {
		t.Errorf("socket not removed: %v", err)
	}
}

// blockingCtx lets a test hold a request in flight.
type blockingCtx struct {
	hookcmds.Context
	entered, release chan struct{}
}

func (b *blockingCtx) UnitStatus() (hookcmds.StatusInfo, error) {
	close(b.entered)
	<-b.release
	return hookcmds.StatusInfo{Status: "active"}, nil
}

func TestProtocolInProcess(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "s")
	srv, err := hooktool.NewServer(socket, hookcmds.Serve)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := hookcmdstest.NewContext(fixture())
	end := srv.Begin("c1", hs)
	defer end()

	c, err := wire.Dial(socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := hooktool.Request{ContextID: "c1", Dir: dir, Command: "state-set", Args: []string{"--file", "-"}}
	resp, err := c.Send(req)
	if err != nil || !resp.NeedStdin || resp.Code != 0 || len(resp.Stderr) != 0 {
		t.Fatalf("first send: %+v %v", resp, err)
	}
	resp, err = c.Call(req, strings.NewReader("a: b\n"))
	if err != nil || resp.Code != 0 {
		t.Fatalf("call: %+v %v", resp, err)
	}
	if got := hs.Changes().CharmStateSet["a"]; got != "b" {
		t.Errorf("state-set: %q", got)
	}
	resp, err = c.Send(hooktool.Request{ContextID: "c1", Dir: "rel", Command: "status-get"})
	if err != nil || resp.Code != 1 || string(resp.Stderr) != "ERROR bad request: Dir is not absolute: \"rel\"\n" {
		t.Errorf("relative dir: %+v %v", resp, err)
	}
}

func TestEndAndCloseWaitForInFlight(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "s")
	srv, err := hooktool.NewServer(socket, hookcmds.Serve)
	if err != nil {
		t.Fatal(err)
	}
	bc := &blockingCtx{Context: hookcmdstest.NewContext(fixture()), entered: make(chan struct{}), release: make(chan struct{})}
	end := srv.Begin("c1", bc)
	done := make(chan hooktool.Response, 1)
	go func() {
		resp, _ := wire.Call(socket, hooktool.Request{ContextID: "c1", Dir: dir, Command: "status-get"}, nil)
		done <- resp
	}()
	<-bc.entered
	ended := make(chan struct{})
	go func() { end(); close(ended) }()
	select {
	case <-ended:
		t.Fatal("end returned while a request was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(bc.release)
	<-ended
	if resp := <-done; string(resp.Stdout) != "active\n" {
		t.Errorf("in-flight response: %+v", resp)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureSymlinksIdempotent(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "status-get"), []byte("old"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := hooktool.EnsureSymlinks(dir, "/opt/hooktool", []string{"status-get", "is-leader"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"status-get", "is-leader"} {
		if got, err := os.Readlink(filepath.Join(dir, n)); err != nil || got != "/opt/hooktool" {
			t.Errorf("%s -> %q %v", n, got, err)
		}
	}
	if err := hooktool.EnsureSymlinks(dir, "/x", []string{"../evil"}); err == nil {
		t.Error("path-like tool name accepted")
	}
}

// TestEnsureSymlinksSharedConcurrently: the units of a machine link the
// tools into one directory at once (each uniter starting); every call
// succeeds and every link ends right, also when the binary moved.
func TestEnsureSymlinksSharedConcurrently(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hook-tools")
	names := hooktool.ToolNames
	for _, bin := range []string{"/opt/one/hooktool", "/opt/two/hooktool"} {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- hooktool.EnsureSymlinksShared(dir, bin, names)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent EnsureSymlinksShared(%s): %v", bin, err)
			}
		}
		for _, n := range names {
			if got, err := os.Readlink(filepath.Join(dir, n)); err != nil || got != bin {
				t.Fatalf("%s -> %q %v, want %s", n, got, err, bin)
			}
		}
	}
}

// benchRounds is how many rounds one iteration of BenchmarkHookToolCall
// runs, so that `make bench` (-benchtime 1x) still gets a stable median.
const benchRounds = 100

// BenchmarkHookToolCall measures one hook tool call, process start to exit:
// status-get run through its symlink to each built client, with the hook
// environment (JUJU_CONTEXT_ID, JUJU_AGENT_SOCKET_ADDRESS), against a real
// Server serving hookcmds. Each round execs every program the same way
// (os/exec, same environment and directory, output captured), in an order
// that rotates every round: /bin/true, an empty Go program (func main(){},
// the floor for any Go client on this machine), status-get through the
// shipped native client and through the Go client. Medians are reported,
// as the machine is shared:
//
//	ns/op              one status-get call, shipped (native) client
//	ns/true            one exec of /bin/true
//	ns/empty-go        one exec of the empty Go program
//	ns/go-client       one status-get call, Go client
//	hooktool/true      the figure the hook tool budget is set in (≤ 2.5)
//	go-client/true     the same for the Go client
//	empty-go/true      Go's start-up floor, which no Go client can beat
func BenchmarkHookToolCall(b *testing.B) {
	cs := clients(b)
	a := startAgent(b, shipped(b))
	goTools := filepath.Join(b.TempDir(), "tools")
	if err := hooktool.EnsureSymlinks(goTools, cs[0].path, []string{"status-get"}); err != nil {
		b.Fatal(err)
	}
	end := a.srv.Begin("bench", hookcmdstest.NewContext(fixture()))
	defer end()
	progs := []struct {
		name, path, want string
	}{
		{"true", "/bin/true", ""},
		{"empty-go", emptyGoBinary(b), ""},
		{"hooktool", filepath.Join(a.tools, "status-get"), "active\n"},
		{"go-client", filepath.Join(goTools, "status-get"), "active\n"},
	}
	env := []string{"JUJU_CONTEXT_ID=bench", "JUJU_AGENT_SOCKET_ADDRESS=" + a.socket, "JUJU_AGENT_SOCKET_NETWORK=unix"}
	samples := make([][]time.Duration, len(progs))
	b.ResetTimer()
	for i := 0; i < b.N*benchRounds; i++ {
		for j := range progs {
			k := (i + j) % len(progs)
			p := progs[k]
			cmd := exec.Command(p.path)
			cmd.Env = env
			cmd.Dir = a.tools
			start := time.Now()
			out, err := cmd.Output()
			d := time.Since(start)
			if err != nil || string(out) != p.want {
				b.Fatalf("%s: got %q, %v; want %q", p.name, out, err, p.want)
			}
			samples[k] = append(samples[k], d)
		}
	}
	b.StopTimer()
	trueNS, emptyNS, toolNS, goNS := median(samples[0]), median(samples[1]), median(samples[2]), median(samples[3])
	b.ReportMetric(toolNS, "ns/op")
	b.ReportMetric(trueNS, "ns/true")
	b.ReportMetric(emptyNS, "ns/empty-go")
	b.ReportMetric(goNS, "ns/go-client")
	b.ReportMetric(toolNS/trueNS, "hooktool/true")
	b.ReportMetric(goNS/trueNS, "go-client/true")
	b.ReportMetric(emptyNS/trueNS, "empty-go/true")
}

// median returns the median of ds in nanoseconds.
func median(ds []time.Duration) float64 {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[len(s)/2])
}

// emptyGoBinary builds a Go program whose main does nothing, the same way
// clients builds the Go client, and returns its path.
func emptyGoBinary(b *testing.B) string {
	dir := b.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "empty-go")
	if out, err := exec.Command("go", "build", "-o", bin, src).CombinedOutput(); err != nil {
		b.Fatalf("cannot build the empty Go program (needs the go tool on PATH): %v\n%s", err, out)
	}
	return bin
}
