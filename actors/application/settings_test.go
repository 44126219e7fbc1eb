package application

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
)

func testSchema(t *testing.T) func(string) (*charm.Config, error) {
	t.Helper()
	cfg, err := charm.ParseConfig([]byte("options:\n  greeting: {type: string, default: hello, description: g}\n  port: {type: int, default: 8080, description: p}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return func(sha string) (*charm.Config, error) {
		if sha != "sha-1" {
			return nil, errors.New("no such charm")
		}
		return cfg, nil
	}
}

func TestUpdateSettings(t *testing.T) {
	schema := testSchema(t)
	cur := &entity.Application{Name: "app", CharmURL: "local:app-1", CharmSHA256: "sha-1",
		UserSettings: map[string]any{"greeting": "hi"}}
	next, reply, err := Handle(time.Now(), cur, &UpdateSettings{Set: map[string]string{"port": "9090"}, Schema: schema})
	if err != nil || next == nil {
		t.Fatalf("set port: %v, %v", next, err)
	}
	if _, ok := reply.(*Done); !ok {
		t.Errorf("reply %T, want *Done", reply)
	}
	if next.UserSettings["greeting"] != "hi" || next.UserSettings["port"] != int64(9090) {
		t.Errorf("user settings %v: want greeting kept and port 9090", next.UserSettings)
	}
	if next.Settings["greeting"] != "hi" || next.Settings["port"] != int64(9090) || next.ConfigHash == "" || next.ConfigHash == cur.ConfigHash {
		t.Errorf("effective %v hash %q", next.Settings, next.ConfigHash)
	}
	if cur.UserSettings["port"] != nil {
		t.Errorf("the current state was changed in place: %v", cur.UserSettings)
	}

	// The same change again writes nothing.
	again, _, err := Handle(time.Now(), next, &UpdateSettings{Set: map[string]string{"port": "9090"}, Schema: schema})
	if err != nil || again != nil {
		t.Errorf("repeated change: want no new state, got %v, %v", again, err)
	}

	// Reset goes back to the default.
	reset, _, err := Handle(time.Now(), next, &UpdateSettings{Reset: []string{"greeting"}, Schema: schema})
	if err != nil || reset == nil || reset.Settings["greeting"] != "hello" {
		t.Fatalf("reset greeting: %v, %v", reset, err)
	}
	if _, ok := reset.UserSettings["greeting"]; ok {
		t.Errorf("reset greeting still a user setting: %v", reset.UserSettings)
	}

	// Bad input: the caller's fault, nothing decided.
	for _, m := range []*UpdateSettings{
		{Set: map[string]string{"port": "many"}},
		{Set: map[string]string{"nosuch": "1"}},
		{Reset: []string{"nosuch"}},
	} {
		m.Schema = schema
		n, _, err := Handle(time.Now(), next, m)
		var inv *InvalidSettings
		if n != nil || !errors.As(err, &inv) {
			t.Errorf("%+v: want InvalidSettings and no state, got %v, %v", m, n, err)
		}
	}
	// A charm the schema lookup cannot read is not the caller's fault.
	other := *next
	other.CharmSHA256 = "sha-2"
	_, _, err = Handle(time.Now(), &other, &UpdateSettings{Set: map[string]string{"port": "1"}, Schema: schema})
	var inv *InvalidSettings
	if err == nil || errors.As(err, &inv) || !strings.Contains(err.Error(), "cannot read charm local:app-1") {
		t.Errorf("unreadable charm: got %v", err)
	}
}
