package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBootstrapLXDSettings(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		want    string
		wantErr string
	}{
		{nil, "", ""},
		{[]string{"logging-config=<root>=INFO"}, "", ""},
		{[]string{"lxd-project=a", "lxd-project=b"}, "b", ""},
		{[]string{"foo=1 lxd-project=edge"}, "edge", ""},
		{[]string{"lxd-project="}, "", "name an existing LXD project"},
		{[]string{"lxd-project=a/b"}, "", "name an existing LXD project"},
		{[]string{"novalue"}, "", "expected key=value"},
		{[]string{"lxd-image="}, "", "name an image alias"},
	} {
		got, _, err := bootstrapLXDSettings(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestBootstrapLXDImage(t *testing.T) {
	project, image, err := bootstrapLXDSettings([]string{"lxd-image=mine/img lxd-project=p"})
	if err != nil || project != "p" || image != "mine/img" {
		t.Fatalf("got project %q image %q err %v; want p, mine/img", project, image, err)
	}
}

// TestAbandonControllerStopsItAndKeepsTheLog: a bootstrap whose controller
// never answered leaves no process and nothing but the log behind, so the
// next bootstrap starts clean; runningUnder is what that next bootstrap
// checks first.
func TestAbandonControllerStopsItAndKeepsTheLog(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "controller")
	if err := os.MkdirAll(filepath.Join(dir, "store"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"trouped.log", "trouped.pid", "bootstrap.json"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A stand-in controller: any process whose --data-dir is in home.
	cmd := exec.Command("sh", "-c", "sleep 60", "sh", "--data-dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer cmd.Process.Kill()
	if got := runningUnder(home); len(got) != 1 || got[0] != cmd.Process.Pid {
		t.Fatalf("runningUnder = %v, want [%d]", got, cmd.Process.Pid)
	}
	if got := runningUnder(t.TempDir()); len(got) != 0 {
		t.Fatalf("runningUnder of another home = %v, want none", got)
	}

	abandonController(home, dir)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the controller process still runs after abandonController")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "trouped.log" {
		t.Fatalf("controller dir holds %v, want only trouped.log", names)
	}
	if got := runningUnder(home); len(got) != 0 {
		t.Fatalf("runningUnder after abandon = %v", got)
	}
}
