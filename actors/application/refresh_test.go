package application

import (
	"reflect"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
)

func mustCharm(t *testing.T, meta, config string) *charm.Charm {
	t.Helper()
	m, err := charm.ParseMeta([]byte(meta))
	if err != nil {
		t.Fatal(err)
	}
	c, err := charm.ParseConfig([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	return &charm.Charm{Meta: m, Config: c}
}

func TestCheckRefresh(t *testing.T) {
	old := mustCharm(t, "name: kv\nprovides:\n  db: {interface: kv}\n", "").Meta
	rel := entity.Relation{ID: 4, Key: "c:db kv:db", Life: entity.Alive, Endpoints: []entity.Endpoint{
		{Application: "c", Name: "db", Interface: "kv", Role: entity.RoleRequirer},
		{Application: "kv", Name: "db", Interface: "kv", Role: entity.RoleProvider},
	}}
	dying := rel
	dying.Life = entity.Dying
	cfg := "options:\n  n: {type: int, default: 1}\n  s: {type: string, default: x}\n"
	user := map[string]any{"n": int64(3), "s": "abc", "gone": "v"}
	tests := []struct {
		name, meta, config string
		rels               []entity.Relation
		wantErr            string
		want               RefreshPlan
	}{
		{"same endpoints, settings kept or dropped", "name: kv\nprovides:\n  db: {interface: kv}\n", cfg, []entity.Relation{rel}, "",
			RefreshPlan{User: map[string]any{"n": int64(3), "s": "abc"}, Dropped: []string{"gone"}}},
		{"type no longer fits", "name: kv\nprovides:\n  db: {interface: kv}\n", "options:\n  n: {type: int}\n  s: {type: int}\n", nil, "",
			RefreshPlan{User: map[string]any{"n": int64(3)}, Dropped: []string{"gone", "s"}}},
		{"endpoint in use vanishes", "name: kv\n", cfg, []entity.Relation{rel}, `no "db" endpoint, which relation "c:db kv:db" still uses`, RefreshPlan{}},
		{"endpoint of a dying relation may vanish", "name: kv\n", cfg, []entity.Relation{dying}, "",
			RefreshPlan{User: map[string]any{"n": int64(3), "s": "abc"}, Dropped: []string{"gone"}}},
		{"interface changes", "name: kv\nprovides:\n  db: {interface: kv2}\n", cfg, []entity.Relation{rel}, `changes from provider "kv" to provider "kv2"`, RefreshPlan{}},
		{"role changes", "name: kv\nrequires:\n  db: {interface: kv}\n", cfg, []entity.Relation{rel}, `to requirer "kv"`, RefreshPlan{}},
		{"other charm", "name: other\n", cfg, nil, `its charm is "kv" and the new one is "other"`, RefreshPlan{}},
		{"limit exceeded", "name: kv\nprovides:\n  db: {interface: kv, limit: 1}\n", cfg, []entity.Relation{rel, func() entity.Relation {
			r := rel
			r.ID, r.Key = 5, "d:db kv:db"
			r.Endpoints = []entity.Endpoint{{Application: "d", Name: "db", Interface: "kv", Role: entity.RoleRequirer}, rel.Endpoints[1]}
			return r
		}()}, "allows 1 relations and 2 exist", RefreshPlan{}},
	}
	for _, tt := range tests {
		got, err := CheckRefresh("kv", old, mustCharm(t, tt.meta, tt.config), user, tt.rels)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want one containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestNewPeers(t *testing.T) {
	m := mustCharm(t, "name: kv\npeers:\n  a: {interface: x}\n  b: {interface: y}\n", "").Meta
	rels := []entity.Relation{{ID: 1, Life: entity.Alive, Endpoints: []entity.Endpoint{{Application: "kv", Name: "a"}}}}
	if got := NewPeers("kv", m, rels); !reflect.DeepEqual(got, []string{"b"}) {
		t.Errorf("NewPeers = %v, want [b]", got)
	}
}
