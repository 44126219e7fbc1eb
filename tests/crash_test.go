package tests

import (
	"bufio"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envInt reads an integer test knob, or returns def.
func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: want an integer", name, v)
	}
	return n
}

// agentPID reads a machine dir's agent.pid; 0 when absent or dead.
func agentPID(dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, "agent.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return 0
	}
	return pid
}

var committedRE = regexp.MustCompile(`msg="hook committed".* context=(\S+)`)

// committedContexts collects the context ids of every hook the uniters
// logged as committed (the line is written once the done step is durable).
func committedContexts(t *testing.T, home string) map[string]bool {
	out := map[string]bool{}
	logs, _ := filepath.Glob(filepath.Join(home, "machines", "*", "agent.log"))
	for _, path := range logs {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := committedRE.FindStringSubmatch(sc.Text()); m != nil {
				out[strings.Trim(m[1], `"`)] = true
			}
		}
		f.Close()
	}
	return out
}

// onceHooks are the hooks that run once per unit (per relation, per
// remote unit): a committed one must never run again.
func onceIdentity(h ledgerEntry) (string, bool) {
	switch {
	case h.Hook == "install", h.Hook == "start", h.Hook == "stop", h.Hook == "remove",
		strings.HasSuffix(h.Hook, "-relation-created"), strings.HasSuffix(h.Hook, "-relation-broken"):
		return h.Hook, true
	case strings.HasSuffix(h.Hook, "-relation-joined"), strings.HasSuffix(h.Hook, "-relation-departed"):
		return h.Hook + "(" + h.Remote + ")", true
	}
	return "", false
}

// TestUniterSurvivesSIGKILL is issue 4's crash test: machine agents are
// SIGKILLed at seeded random moments while a provider/requirer pair is
// deployed, related, reconfigured and scaled down. Afterwards every unit
// converges, every relation change was seen, every unit saw the final
// config, and no hook that was committed ran again (the ledgers' context
// ids against the uniters' "hook committed" log lines). TROUPE_CRASH_SEED
// and TROUPE_CRASH_KILLS replay or lengthen a run.
func TestUniterSurvivesSIGKILL(t *testing.T) {
	seed := uint64(envInt(t, "TROUPE_CRASH_SEED", 20261201))
	kills := envInt(t, "TROUPE_CRASH_KILLS", 50)
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d, %d kills (replay with TROUPE_CRASH_SEED=%d TROUPE_CRASH_KILLS=%d)", seed, kills, seed, kills)

	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)), "--agent-check-interval", "1s")
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/kvstore", "-n", "2", "--config", "ledger-dir="+ledgers)
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/kvclient", "-n", "2", "--config", "ledger-dir="+ledgers)

	ops := map[int][]string{
		kills * 1 / 8: {"integrate", "kvstore", "kvclient"},
		kills * 2 / 8: {"config", "kvclient", "flavour=f2"},
		kills * 3 / 8: {"config", "kvstore", "flavour=f3"},
		kills * 4 / 8: {"remove-unit", "kvclient/1"},
		kills * 5 / 8: {"config", "kvclient", "flavour=f5"},
		kills * 6 / 8: {"config", "kvstore", "flavour=final"},
		kills * 7 / 8: {"config", "kvclient", "flavour=final"},
	}
	done := 0
	for step := 0; done < kills; step++ {
		if op, ok := ops[done]; ok {
			e.mustTroupe(commandTimeout, op...)
			delete(ops, done)
		}
		time.Sleep(time.Duration(rng.IntN(1200)) * time.Millisecond)
		dirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*-machine-*"))
		slices.Sort(dirs)
		var live []string
		for _, d := range dirs {
			if agentPID(d) != 0 {
				live = append(live, d)
			}
		}
		if len(live) == 0 {
			if step > 10*kills {
				t.Fatalf("no machine agent to kill after %d steps", step)
			}
			continue
		}
		dir := live[rng.IntN(len(live))]
		old := agentPID(dir)
		if old == 0 || syscall.Kill(old, syscall.SIGKILL) != nil {
			continue
		}
		done++
		deadline := time.Now().Add(60 * time.Second)
		for {
			if _, err := os.Stat(dir); os.IsNotExist(err) {
				break // the machine was released meanwhile
			}
			if pid := agentPID(dir); pid != 0 && pid != old {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: machine agent in %s not restarted within 60s", done, dir)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, op := range ops {
		e.mustTroupe(commandTimeout, op...)
	}

	// Convergence.
	waitFor(t, e, relationsTimeout, "kvstore/0,1 and kvclient/0 active and idle", func(doc statusDoc) bool {
		want := map[string][]string{"kvstore": {"kvstore/0", "kvstore/1"}, "kvclient": {"kvclient/0"}}
		for app, units := range want {
			got := doc.Applications[app].Units
			if len(got) != len(units) {
				return false
			}
			for _, u := range units {
				if s, ok := got[u]; !ok || s.WorkloadStatus.Current != "active" || s.JujuStatus.Current != "idle" {
					return false
				}
			}
		}
		return true
	})
	live := []string{"kvstore/0", "kvstore/1", "kvclient/0"}
	waitLedgers(t, e, ledgers, "every relation change seen and the final config applied", live, func(u string, _, data []ledgerEntry) bool {
		var lastFlavour string
		for _, d := range data {
			if d.Hook == "config-changed" {
				lastFlavour = d.Extra
			}
		}
		if lastFlavour != "flavour=final" {
			return false
		}
		if strings.HasPrefix(u, "kvstore/") {
			return hasData(data, "db-relation-changed", "kvclient/0", "want=key-of-kvclient/0")
		}
		return hasData(data, "db-relation-changed", "kvstore/0", "host=kvstore/0") &&
			hasData(data, "db-relation-changed", "kvstore/1", "host=kvstore/1") &&
			hasData(data, "db-relation-changed", "", "endpoint=kv://kvstore")
	})
	// The removed unit tore down: its last hooks are stop then remove.
	// A hook killed before its done step was saved runs again, so a
	// repeat of the same hook counts once.
	waitLedgers(t, e, ledgers, "kvclient/1 removed", []string{"kvclient/1"}, func(_ string, hooks, _ []ledgerEntry) bool {
		var names []string
		for _, h := range hooks {
			if len(names) == 0 || names[len(names)-1] != h.Hook {
				names = append(names, h.Hook)
			}
		}
		n := len(names)
		return n >= 2 && names[n-2] == "stop" && names[n-1] == "remove"
	})

	// No committed hook ran again. (The removed unit's machine and its log
	// are gone, so its runs are checked for the hooks its ledger shows
	// completing the tear-down only.)
	committed := committedContexts(t, e.home)
	if len(committed) == 0 {
		t.Fatal("no \"hook committed\" lines in the agents' logs: the invariant check would be vacuous")
	}
	for _, u := range live {
		hooks, _ := readLedger(t, ledgers, u)
		seen := map[string]string{} // identity -> context of its committed run
		installs := 0
		for _, h := range hooks {
			if h.Hook == "install" {
				installs++
			}
			id, once := onceIdentity(h)
			if !once {
				continue
			}
			if prev, ok := seen[id]; ok {
				t.Errorf("%s: %s ran again (context %s) after its committed run (context %s)", u, id, h.Context, prev)
			}
			if committed[h.Context] {
				seen[id] = h.Context
			}
		}
		for _, id := range []string{"install", "start", "db-relation-created"} {
			if _, ok := seen[id]; !ok {
				t.Errorf("%s: no committed %s in its ledger: %v", u, id, hooks)
			}
		}
		t.Logf("%s: %d hooks, %d install runs", u, len(hooks), installs)
	}
}
