package mountns

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the helper: `<test binary> mount-ns ...`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == Personality {
		if err := Main(os.Args[2:]); err != nil {
			os.Stderr.WriteString("ERROR " + err.Error() + "\n")
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// helper is the namespace helper: $MOUNTNS_HELPER (e.g. bin/trouped, to
// measure the real one) or this test binary.
func helper(t testing.TB) string {
	if h := os.Getenv("MOUNTNS_HELPER"); h != "" {
		return h
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func dirs(t testing.TB) (src, dst string) {
	src, dst = filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "dst")
	if err := os.MkdirAll(filepath.Join(src, "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	return src, dst
}

func TestWrapShowsSourceOnlyInside(t *testing.T) {
	src, dst := dirs(t)
	cmd := exec.Command("/bin/sh", "-c", `ls "$0"; grep -c " $0 " /proc/self/mountinfo`, dst)
	Wrap(cmd, helper(t), src, dst)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("wrapped command failed: %v\n%s", err, out)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 || lines[0] != "web" || lines[1] != "1" {
		t.Fatalf("inside the namespace: want dst listing [web] and one mount, got %q", out)
	}
	entries, err := os.ReadDir(dst)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if len(names) != 0 {
		t.Fatalf("the bind mount leaked to the host: %s holds %v", dst, names)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), " "+dst+" ") {
		t.Fatalf("%s is a mount point on the host", dst)
	}
}

func TestHelperRefusesTheHostNamespace(t *testing.T) {
	src, dst := dirs(t)
	cmd := exec.Command(helper(t), Personality, src, dst, "--", "/bin/true")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refusing to mount") {
		t.Fatalf("helper run without a namespace: want a refusal, got %v\n%s", err, out)
	}
}

// BenchmarkWrapOverhead compares /bin/true run directly with /bin/true
// run through the namespace helper (this test binary by default; set
// MOUNTNS_HELPER=$PWD/bin/trouped for the real one).
func BenchmarkWrapOverhead(b *testing.B) {
	src, dst := dirs(b)
	var direct, wrapped time.Duration
	for i := 0; i < b.N; i++ {
		for range 50 {
			t0 := time.Now()
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
			direct += time.Since(t0)
			cmd := exec.Command("/bin/true")
			Wrap(cmd, helper(b), src, dst)
			t0 = time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			wrapped += time.Since(t0)
		}
	}
	n := float64(b.N * 50)
	b.ReportMetric(float64(direct.Microseconds())/n, "direct-µs/op")
	b.ReportMetric(float64(wrapped.Microseconds())/n, "wrapped-µs/op")
	b.ReportMetric(float64(wrapped)/float64(direct), "wrapped/direct")
}
