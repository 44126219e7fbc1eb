package tests

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// storageDoc is the `storage` object of status --format=json (and of
// `troupe storage --format=json`), decoded loosely so absent and null
// keys can be told apart.
type storageDoc struct {
	Storage     map[string]map[string]any `json:"storage"`
	Filesystems map[string]map[string]any `json:"filesystems"`
}

// statusStorage reads status --format=json and returns its raw text and
// its `storage` object (nil when absent).
func statusStorage(t *testing.T, e *env) (string, *storageDoc) {
	t.Helper()
	r := e.mustTroupe(commandTimeout, "status", "--format=json")
	var doc struct {
		Storage *storageDoc `json:"storage"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("status is not JSON: %v\n%s", err, r.stdout)
	}
	return r.stdout, doc.Storage
}

// waitStorage polls status until cond holds for its storage object.
func waitStorage(t *testing.T, e *env, what string, cond func(*storageDoc) bool) (string, *storageDoc) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		raw, doc := statusStorage(t, e)
		if cond(doc) {
			return raw, doc
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; status:\n%s", what, raw)
		}
		time.Sleep(time.Second)
	}
}

func attachedTo(doc *storageDoc, id, unit string) bool {
	if doc == nil {
		return false
	}
	si, ok := doc.Storage[id]
	if !ok {
		return false
	}
	st, _ := si["status"].(map[string]any)
	att, _ := si["attachments"].(map[string]any)
	units, _ := att["units"].(map[string]any)
	_, ok = units[unit]
	return ok && st["current"] == "attached"
}

// get walks nested JSON maps.
func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// TestStorage: a charm's filesystem storage on the local provider. deploy
// --storage gives the unit one instance (data/0) of the asked size, a
// directory under its machine's dir, attached before install: the hook
// order is data-storage-attached, install, …, start, with
// JUJU_STORAGE_ID/KIND/LOCATION set and storage-get/-list answering in
// the hook. Status shows Juju's storage/filesystems shapes (no volumes
// key, no nulls); `troupe storage` the same. storage-add (from
// config-changed) adds data/1, whose storage-attached runs; add-unit gives
// the new unit its own instance. remove-unit runs data-storage-detaching
// before stop and leaves the storage detached; with --destroy-storage the
// instances are gone, as with remove-application --destroy-storage.
func TestStorage(t *testing.T) {
	t.Parallel() // mostly waiting on agents; see tests/doc.go
	e := newEnv(t)
	ledgers := t.TempDir()
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))

	for _, bad := range []struct{ spec, want string }{
		{"nosuch=1G", `charm has no storage "nosuch"`},
		{"data=5", "exceeds the charm's maximum 3"},
		{"data=50M", "below the charm's minimum-size"},
		{"data=ebs,1G", `pool "ebs" is not available`},
	} {
		r := e.troupe(commandTimeout, "deploy", "./testcharms/storer", "--storage", bad.spec)
		if r.code == 0 || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("deploy --storage %s: want an error containing %q, got %s", bad.spec, bad.want, r)
		}
	}
	if raw, doc := statusStorage(t, e); doc != nil {
		t.Errorf("storage before any deploy: want no storage key, got:\n%s", raw)
	}

	e.mustTroupe(commandTimeout, "deploy", "./testcharms/storer", "--config", "ledger-dir="+ledgers, "--storage", "data=rootfs,2G")
	// config-changed sets active before start runs, so wait for start in
	// the ledger too.
	waitFor(t, e, readyTimeout, "storer/0 active and started", func(doc statusDoc) bool {
		return doc.Applications["storer"].Units["storer/0"].WorkloadStatus.Current == "active" &&
			slices.Contains(readLinesIfExists(filepath.Join(ledgers, "storer-0")), "start")
	})
	hooks := readLines(t, filepath.Join(ledgers, "storer-0"))
	if len(hooks) < 4 || hooks[0] != "data-storage-attached" || hooks[1] != "install" || hooks[len(hooks)-1] != "start" {
		t.Errorf("first hooks of storer/0: got %v, want data-storage-attached, install, …, start", hooks)
	}
	machineDirs, _ := filepath.Glob(filepath.Join(e.home, "machines", "*-machine-0"))
	if len(machineDirs) != 1 {
		t.Fatalf("machine dir of machine 0: %v", machineDirs)
	}
	loc := filepath.Join(machineDirs[0], "storage", "data-0")
	if got := strings.TrimSpace(readFile(t, filepath.Join(loc, "owner"))); got != "storer/0" {
		t.Errorf("file written by data-storage-attached in %s: got %q, want storer/0", loc, got)
	}
	env := readLines(t, filepath.Join(ledgers, "storer-0.storage"))
	want := []string{
		"hook=data-storage-attached id=data/0 kind=filesystem location=" + loc,
		"get-location=" + loc,
		"get-kind=filesystem",
		`get-json={"kind":"filesystem","location":"` + loc + `"}`,
		`list=["data/0"]`,
	}
	if strings.Join(env, "\n") != strings.Join(want, "\n") {
		t.Errorf("storage hook record:\ngot  %q\nwant %q", env, want)
	}

	raw, doc := statusStorage(t, e)
	if strings.Contains(raw, "null") {
		t.Errorf("status has a null:\n%s", raw)
	}
	if !attachedTo(doc, "data/0", "storer/0") {
		t.Fatalf("data/0 not attached to storer/0 in status:\n%s", raw)
	}
	si := doc.Storage["data/0"]
	for _, c := range []struct {
		path []string
		want any
	}{
		{[]string{"kind"}, "filesystem"},
		{[]string{"persistent"}, false},
		{[]string{"life"}, "alive"},
		{[]string{"attachments", "units", "storer/0", "machine"}, "0"},
		{[]string{"attachments", "units", "storer/0", "location"}, loc},
		{[]string{"attachments", "units", "storer/0", "life"}, "alive"},
	} {
		if got := get(si, c.path...); got != c.want {
			t.Errorf("status storage data/0 %v: got %v, want %v", c.path, got, c.want)
		}
	}
	if _, ok := get(si, "status", "since").(string); !ok {
		t.Errorf("status storage data/0 has no status.since: %v", si)
	}
	fs, ok := doc.Filesystems["0"]
	if !ok {
		t.Fatalf("no filesystem 0 in status:\n%s", raw)
	}
	for _, c := range []struct {
		path []string
		want any
	}{
		{[]string{"storage"}, "data/0"},
		{[]string{"pool"}, "rootfs"},
		{[]string{"size"}, float64(2048)},
		{[]string{"attachments", "machines", "0", "mount-point"}, loc},
		{[]string{"attachments", "machines", "0", "read-only"}, false},
		{[]string{"attachments", "units", "storer/0", "location"}, loc},
	} {
		if got := get(fs, c.path...); got != c.want {
			t.Errorf("status filesystem 0 %v: got %v, want %v", c.path, got, c.want)
		}
	}
	if strings.Contains(raw, `"volumes"`) {
		t.Errorf("status shows a volumes key with no volumes:\n%s", raw)
	}
	r := e.mustTroupe(commandTimeout, "storage", "--format", "json")
	var listed storageDoc
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || !attachedTo(&listed, "data/0", "storer/0") || listed.Filesystems["0"] == nil {
		t.Errorf("troupe storage --format json: %v\n%s", err, r.stdout)
	}
	if r := e.mustTroupe(commandTimeout, "storage"); !strings.Contains(r.stdout, "storer/0  data/0      filesystem  rootfs  "+loc+"  2.0 GiB  attached") {
		t.Errorf("troupe storage tabular:\n%s", r.stdout)
	}

	// storage-add from config-changed: data/1 is created, provisioned and
	// its storage-attached runs.
	e.mustTroupe(commandTimeout, "config", "storer", "extra-data=1")
	waitStorage(t, e, "data/1 attached to storer/0", func(d *storageDoc) bool { return attachedTo(d, "data/1", "storer/0") })
	waitFor(t, e, readyTimeout, "storer/0 idle", func(doc statusDoc) bool {
		return doc.Applications["storer"].Units["storer/0"].JujuStatus.Current == "idle"
	})
	if env := readLines(t, filepath.Join(ledgers, "storer-0.storage")); !strings.Contains(strings.Join(env, "\n"),
		"hook=data-storage-attached id=data/1 kind=filesystem location="+filepath.Join(machineDirs[0], "storage", "data-1")) {
		t.Errorf("no storage-attached for data/1 after storage-add:\n%s", strings.Join(env, "\n"))
	}

	// add-unit: the new unit gets its own instance (data/2), and its
	// config-changed (extra-data=1) adds data/3.
	e.mustTroupe(commandTimeout, "add-unit", "storer")
	waitStorage(t, e, "data/2 and data/3 attached to storer/1", func(d *storageDoc) bool {
		return attachedTo(d, "data/2", "storer/1") && attachedTo(d, "data/3", "storer/1")
	})
	waitFor(t, e, readyTimeout, "storer/1 active", func(doc statusDoc) bool {
		return doc.Applications["storer"].Units["storer/1"].WorkloadStatus.Current == "active"
	})

	// remove-unit without --destroy-storage: detaching runs before stop,
	// the instances stay, detached.
	e.mustTroupe(commandTimeout, "remove-unit", "--no-prompt", "storer/1")
	raw, doc = waitStorage(t, e, "data/2 and data/3 detached", func(d *storageDoc) bool {
		return d != nil && get(d.Storage["data/2"], "status", "current") == "detached" && get(d.Storage["data/3"], "status", "current") == "detached"
	})
	if att := get(doc.Storage["data/2"], "attachments"); att != nil {
		t.Errorf("detached data/2 still has attachments: %v\n%s", att, raw)
	}
	if got := strings.Join(readLines(t, filepath.Join(ledgers, "storer-1")), ","); !strings.HasSuffix(got, ",data-storage-detaching,data-storage-detaching,stop,remove") {
		t.Errorf("hooks of removed storer/1: got %s, want …,data-storage-detaching×2,stop,remove", got)
	}

	// remove-unit --destroy-storage: both instances of storer/0 go.
	e.mustTroupe(commandTimeout, "remove-unit", "--no-prompt", "storer/0", "--destroy-storage")
	raw, doc = waitStorage(t, e, "data/0 and data/1 destroyed", func(d *storageDoc) bool {
		if d == nil {
			return true // nothing left at all would be wrong: checked below
		}
		_, a := d.Storage["data/0"]
		_, b := d.Storage["data/1"]
		return !a && !b
	})
	if doc == nil || doc.Storage["data/2"] == nil || doc.Storage["data/3"] == nil {
		t.Errorf("detached data/2 or data/3 was destroyed with storer/0's storage:\n%s", raw)
	}
	if strings.Contains(raw, "null") {
		t.Errorf("status has a null:\n%s", raw)
	}
	got := strings.Join(readLines(t, filepath.Join(ledgers, "storer-0")), ",")
	if !strings.HasSuffix(got, ",data-storage-detaching,data-storage-detaching,stop,remove") {
		t.Errorf("hooks of removed storer/0: got %s, want …,data-storage-detaching×2,stop,remove", got)
	}

	// remove-application --destroy-storage destroys its units' storage
	// (storer/2's data/4 and data/5); the detached data/2 and data/3 stay.
	e.mustTroupe(commandTimeout, "add-unit", "storer")
	waitStorage(t, e, "data/4 and data/5 attached to storer/2", func(d *storageDoc) bool {
		return attachedTo(d, "data/4", "storer/2") && attachedTo(d, "data/5", "storer/2")
	})
	e.mustTroupe(commandTimeout, "remove-application", "--no-prompt", "storer", "--destroy-storage")
	raw, doc = waitStorage(t, e, "data/4 and data/5 destroyed", func(d *storageDoc) bool {
		return d != nil && d.Storage["data/4"] == nil && d.Storage["data/5"] == nil
	})
	for _, id := range []string{"data/2", "data/3"} {
		if get(doc.Storage[id], "status", "current") != "detached" {
			t.Errorf("detached %s after remove-application:\n%s", id, raw)
		}
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}
