package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBootstrapNeverRunsTwoControllersOnOneHome: bootstrap refuses an API
// port it could never be reached on, and a home whose earlier controller
// still runs though the client lost its record of it (a second controller
// would fight the first for the store: found by hand, the second looped
// for ever on "address already in use"); destroy-controller clears it and
// bootstrap then works.
func TestBootstrapNeverRunsTwoControllersOnOneHome(t *testing.T) {
	e := newEnv(t)
	if r := e.troupe(commandTimeout, "bootstrap", "--api-port", "0"); r.code != 2 || !strings.Contains(r.stderr, "--api-port 0 is out of range") {
		t.Fatalf("bootstrap --api-port 0: %s; want exit 2 and the range", r)
	}
	if _, err := os.Stat(filepath.Join(e.home, "controller")); !os.IsNotExist(err) {
		t.Fatalf("a refused bootstrap left a controller directory: %v", err)
	}

	port := strconv.Itoa(freePort(t))
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", port)
	pid := readFile(t, filepath.Join(e.home, "controller", "trouped.pid"))
	if err := os.Remove(filepath.Join(e.home, "client.json")); err != nil {
		t.Fatal(err)
	}
	r := e.troupe(commandTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	if r.code != 1 || !strings.Contains(r.stderr, "processes of an earlier controller still run") ||
		!strings.Contains(r.stderr, pid) || !strings.Contains(r.stderr, "destroy-controller --yes") {
		t.Fatalf("second bootstrap over a running controller: %s; want exit 1 naming pid %s and destroy-controller", r, pid)
	}
	if got := readFile(t, filepath.Join(e.home, "controller", "trouped.pid")); got != pid {
		t.Fatalf("the refused bootstrap replaced the running controller's pid file: %s -> %s", pid, got)
	}

	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", port)
	e.mustTroupe(commandTimeout, "status", "--format=json")
}
