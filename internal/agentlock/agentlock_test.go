package agentlock_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/agentlock"
)

// TestSecondAgentIsRefusedAndPointsAtTheHolder runs the loser in another
// process (flock is per open file, so it would not conflict in-process
// only by accident): it must fail with HeldError naming the holder and
// leave agent.pid pointing at the holder.
func TestSecondAgentIsRefusedAndPointsAtTheHolder(t *testing.T) {
	if dir := os.Getenv("AGENTLOCK_CHILD"); dir != "" {
		_, err := agentlock.Acquire(dir)
		var held *agentlock.HeldError
		if errors.As(err, &held) {
			os.Stdout.WriteString("held " + strconv.Itoa(held.Pid))
			os.Exit(0)
		}
		os.Stdout.WriteString("acquired")
		os.Exit(0)
	}
	dir := t.TempDir()
	release, err := agentlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	child := func() string {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestSecondAgentIsRefusedAndPointsAtTheHolder$")
		cmd.Env = append(os.Environ(), "AGENTLOCK_CHILD="+dir)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	// The provider recorded the loser's pid; the loser corrects it.
	if err := os.WriteFile(filepath.Join(dir, agentlock.PidFile), []byte("999999"), 0o600); err != nil {
		t.Fatal(err)
	}
	me := strconv.Itoa(os.Getpid())
	if got := child(); got != "held "+me {
		t.Fatalf("second agent: %q, want held %s", got, me)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, agentlock.PidFile)); string(data) != me {
		t.Errorf("agent.pid = %q, want the holder %s", data, me)
	}
	release()
	if got := child(); got != "acquired" {
		t.Errorf("after release: %q, want acquired", got)
	}
}
