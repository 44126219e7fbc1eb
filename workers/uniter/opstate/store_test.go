package opstate_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/opstate"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

func sampleState() resolver.State {
	return resolver.State{
		Kind: resolver.KindRunHook, Step: resolver.StepPending,
		Hook: &hook.Info{Kind: hook.RelationJoined, RelationID: 0, Endpoint: "db",
			RemoteUnit: "mysql/1", RemoteApp: "mysql", ChangeVersion: 4},
		CharmURL: "local:app-1", CharmModifiedVersion: 2,
		Installed: true, Started: true, Leader: true,
		ConfigHash: "c1", TrustHash: "t1", AddressesHash: "a1",
		Relations: map[int]*resolver.RelationState{
			0: {Endpoint: "db", RemoteApp: "mysql", Created: true,
				Members: map[string]int64{"mysql/0": 3}, AppMembers: map[string]int64{"mysql": 1},
				ChangedPending: "mysql/0"},
			5: {Endpoint: "peers", RemoteApp: "app", Peer: true, Created: true},
		},
		AttachedStorage:  map[string]bool{"data/0": true},
		CompletedActions: []string{"7"},
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uniter-state.json")
	st, err := opstate.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := st.Load(); err != nil || found {
		t.Fatalf("Load() on a new store = found %v, err %v; want not found, nil", found, err)
	}
	want := sampleState()
	saved := want.Clone()
	saved.LeaderSettingsVersion, saved.UpdateStatusVersion, saved.RetryHookVersion = 3, 4, 5
	if err := st.Save(saved); err != nil {
		t.Fatal(err)
	}
	st2, err := opstate.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	got, found, err := st2.Load()
	if err != nil || !found {
		t.Fatalf("Load() = found %v, err %v", found, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load() = %+v\nwant %+v (in-memory fields not stored)", got, want)
	}
}

func TestSaveSkipsUnchanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	st, err := opstate.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sampleState()
	if err := st.Save(s); err != nil {
		t.Fatal(err)
	}
	// Replace the file behind the store's back; an unchanged Save must
	// not rewrite it, a changed one must.
	if err := os.WriteFile(path, []byte("sentinel"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.UpdateStatusVersion = 99 // in-memory only: encodes the same
	if err := st.Save(s); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "sentinel" {
		t.Fatalf("unchanged Save rewrote the file")
	}
	s.Step = resolver.StepDone
	if err := st.Save(s); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), `"opstep": "done"`) {
		t.Fatalf("changed Save did not write the file: %s", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after saves, want 1 (no temp files left)", len(entries))
	}
}

func TestLoadCorrupt(t *testing.T) {
	tests := map[string]string{
		"garbage":       "{not json",
		"truncated":     `{"version":1,"state":{"op":"run-hook"`,
		"trailing":      `{"version":1,"state":{"op":"continue","opstep":"pending"}} {}`,
		"version":       `{"version":2,"state":{}}`,
		"unknown field": `{"version":1,"state":{"op":"continue","opstep":"pending","bogus":1}}`,
		"invalid state": `{"version":1,"state":{"op":"run-hook","opstep":"pending"}}`,
		"bad kind":      `{"version":1,"state":{"op":"dance","opstep":"pending"}}`,
		"empty":         ``,
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := opstate.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			_, found, err := st.Load()
			if err == nil || found {
				t.Fatalf("Load() = found %v, err %v; want an error", found, err)
			}
			if !strings.Contains(err.Error(), "is corrupt") || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not say the file %q is corrupt", err, path)
			}
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Errorf("Load modified the corrupt file")
			}
		})
	}
}

func TestSaveRejectsInvalid(t *testing.T) {
	st, err := opstate.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(resolver.State{Kind: resolver.KindRunHook, Step: resolver.StepQueued}); err == nil {
		t.Fatal("Save of a run-hook state without a hook succeeded")
	}
}

func TestOpenMissingDir(t *testing.T) {
	if _, err := opstate.Open(filepath.Join(t.TempDir(), "nope", "state")); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}
