package resolver_test

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the resolver's output")

// scenario is one testdata/*.yaml file: an initial local state and
// snapshot, then steps that change the snapshot; after each step the
// executor loop is simulated until the resolver has nothing to do.
type scenario struct {
	Spec     string            `yaml:"spec"`
	State    resolver.State    `yaml:"state"`
	Snapshot resolver.Snapshot `yaml:"snapshot"`
	Steps    []step            `yaml:"steps"`
}

type step struct {
	Name string `yaml:"name"`
	// Set is decoded onto the current snapshot: scalars are replaced,
	// map entries added or replaced whole.
	Set             yaml.Node `yaml:"set"`
	RemoveRelations []int     `yaml:"remove-relations"`
	RemoveStorage   []string  `yaml:"remove-storage"`
	RemoveMembers   []string  `yaml:"remove-members"` // "<relation-id>:<unit>"
	// Fail lists hook names whose next run fails (once per entry).
	Fail []string `yaml:"fail"`
	// Bump increments snapshot counters: update-status, retry,
	// leader-settings.
	Bump []string `yaml:"bump"`
	// Restart simulates an agent restart: the state goes through its JSON
	// encoding (losing in-memory fields) and the watcher's counters start
	// again (leader settings at 1 for its initial event, timers at 0).
	Restart bool `yaml:"restart"`
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in testdata: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			got := runScenario(t, file)
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it, then review it against the spec)", err)
			}
			if got != string(want) {
				t.Errorf("hook sequence differs from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func runScenario(t *testing.T, file string) string {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var sc scenario
	if err := yaml.Unmarshal(data, &sc); err != nil {
		t.Fatalf("cannot parse %s: %v", file, err)
	}
	if sc.Spec == "" {
		t.Fatalf("%s: scenario must name the spec rule it checks (spec:)", file)
	}
	sim := &simulator{state: sc.State, snap: sc.Snapshot, fail: map[string]int{}}
	var out strings.Builder
	if len(sc.Steps) == 0 {
		sc.Steps = []step{{Name: "initial"}}
	}
	for _, st := range sc.Steps {
		fmt.Fprintf(&out, "== %s\n", st.Name)
		if err := sim.apply(st); err != nil {
			t.Fatalf("%s: step %q: %v", file, st.Name, err)
		}
		if err := sim.run(&out); err != nil {
			t.Fatalf("%s: step %q: %v\noutput so far:\n%s", file, st.Name, err, out.String())
		}
	}
	return out.String()
}

type simulator struct {
	state resolver.State
	snap  resolver.Snapshot
	fail  map[string]int
}

func (s *simulator) apply(st step) error {
	if !st.Set.IsZero() {
		if err := st.Set.Decode(&s.snap); err != nil {
			return fmt.Errorf("cannot apply set: %w", err)
		}
	}
	for _, id := range st.RemoveRelations {
		delete(s.snap.Relations, id)
	}
	for _, id := range st.RemoveStorage {
		delete(s.snap.Storage, id)
	}
	for _, m := range st.RemoveMembers {
		var id int
		var unit string
		if _, err := fmt.Sscanf(strings.Replace(m, ":", " ", 1), "%d %s", &id, &unit); err != nil {
			return fmt.Errorf("bad remove-members entry %q", m)
		}
		delete(s.snap.Relations[id].Members, unit)
	}
	for _, h := range st.Fail {
		s.fail[h]++
	}
	for _, b := range st.Bump {
		switch b {
		case "update-status":
			s.snap.UpdateStatusVersion++
		case "retry":
			s.snap.RetryHookVersion++
		case "leader-settings":
			s.snap.LeaderSettingsVersion++
		default:
			return fmt.Errorf("unknown counter %q", b)
		}
	}
	if st.Restart {
		data, err := json.Marshal(s.state)
		if err != nil {
			return err
		}
		var fresh resolver.State
		if err := json.Unmarshal(data, &fresh); err != nil {
			return err
		}
		s.state = fresh
		s.snap.LeaderSettingsVersion, s.snap.UpdateStatusVersion, s.snap.RetryHookVersion = 1, 0, 0
	}
	return nil
}

// run drives NextOp and the Op transitions to quiescence, writing one
// line per operation and a final line saying why it stopped.
func (s *simulator) run(out *strings.Builder) error {
	for range 500 {
		op, err := resolver.NextOp(s.state, s.snap)
		switch {
		case errors.Is(err, resolver.ErrNoOperation):
			out.WriteString("idle\n")
			return nil
		case errors.Is(err, resolver.ErrWaiting):
			if h, ok := s.state.InError(); ok {
				fmt.Fprintf(out, "waiting: hook failed: %q\n", h.Name())
			} else {
				out.WriteString("waiting\n")
			}
			return nil
		case errors.Is(err, resolver.ErrUnitDead):
			out.WriteString("unit dead\n")
			return nil
		case err != nil:
			return err
		}
		if op.ClearResolved {
			fmt.Fprintf(out, "clear resolved (%s)\n", s.snap.ResolvedMode)
			s.snap.ResolvedMode = resolver.ResolvedNone
		}
		ok := true
		line := op.String()
		if op.Kind == resolver.OpRunHook || op.Kind == resolver.OpSkipHook {
			line = strings.TrimSuffix(line, " hook") + envString(op.Hook)
			if op.Kind == resolver.OpRunHook && s.fail[op.Hook.Name()] > 0 {
				s.fail[op.Hook.Name()]--
				ok = false
				line += " -> failed"
			}
		}
		out.WriteString(line + "\n")
		prepared := op.Prepare(s.state)
		if err := prepared.Validate(); err != nil {
			return fmt.Errorf("%s: prepared state: %w", op, err)
		}
		executed := op.Executed(prepared, ok)
		if !ok {
			s.state = executed
			continue
		}
		s.state = op.Commit(executed)
		if err := s.state.Validate(); err != nil {
			return fmt.Errorf("%s: committed state: %w", op, err)
		}
		if op.Kind == resolver.OpRunAction || op.Kind == resolver.OpFailAction {
			s.snap.ActionsPending = slices.DeleteFunc(s.snap.ActionsPending, func(id string) bool { return id == op.ActionID })
		}
	}
	return errors.New("no quiescence after 500 operations")
}

func envString(h hook.Info) string {
	env := h.Env()
	delete(env, "JUJU_RELATION")
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, env[k])
	}
	return b.String()
}
