package relation_test

import (
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
)

func meta(t *testing.T, yaml string) *charm.Meta {
	t.Helper()
	m, err := charm.ParseMeta([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatch(t *testing.T) {
	wordpress := meta(t, "name: wordpress\nrequires:\n  db: mysql\n  cache: memcache\npeers:\n  ring: wp-ring\n")
	mysql := meta(t, "name: mysql\nprovides:\n  server: mysql\n  admin: mysql\n")
	mysqlOne := meta(t, "name: mysql\nprovides:\n  server:\n    interface: mysql\n    limit: 1\n")
	logging := meta(t, "name: logging\nsubordinate: true\nrequires:\n  info:\n    interface: juju-info\n    scope: container\n")
	memcache := meta(t, "name: memcache\nprovides:\n  cache: memcache\n")
	tests := []struct {
		name    string
		a, b    relation.Side
		want    string // relation key
		scope   string
		wantErr string
	}{
		{"the one match by interface", relation.Side{App: "wordpress", Meta: wordpress}, relation.Side{App: "mc", Meta: memcache}, "wordpress:cache mc:cache", "global", ""},
		{"order of arguments does not matter", relation.Side{App: "mc", Meta: memcache}, relation.Side{App: "wordpress", Meta: wordpress}, "wordpress:cache mc:cache", "global", ""},
		{"two candidates are ambiguous", relation.Side{App: "wordpress", Meta: wordpress}, relation.Side{App: "mysql", Meta: mysql}, "", "", `ambiguous relation: "wordpress mysql" could refer to "wordpress:db mysql:admin"; "wordpress:db mysql:server"`},
		{"naming an endpoint resolves it", relation.Side{App: "wordpress", Meta: wordpress}, relation.Side{App: "mysql", Meta: mysql, Endpoint: "server"}, "wordpress:db mysql:server", "global", ""},
		{"unknown endpoint", relation.Side{App: "wordpress", Meta: wordpress, Endpoint: "nope"}, relation.Side{App: "mysql", Meta: mysql}, "", "", `application "wordpress" has no "nope" endpoint`},
		{"no common interface", relation.Side{App: "mysql", Meta: mysql}, relation.Side{App: "mc", Meta: memcache}, "", "", "no relations found"},
		{"peers are not integrated", relation.Side{App: "wordpress", Meta: wordpress, Endpoint: "ring"}, relation.Side{App: "mysql", Meta: mysql}, "", "", "no relations found"},
		{"an application with itself", relation.Side{App: "mysql", Meta: mysql}, relation.Side{App: "mysql", Meta: mysql}, "", "", "to itself"},
		{"a subordinate over the implicit juju-info", relation.Side{App: "logging", Meta: logging}, relation.Side{App: "mysql", Meta: mysqlOne}, "logging:info mysql:juju-info", "container", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eps, err := relation.Match(tt.a, tt.b)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := entity.RelationKeyOf(eps[:]); got != tt.want {
				t.Errorf("key %q, want %q", got, tt.want)
			}
			if eps[0].Application != tt.a.App || eps[1].Application != tt.b.App {
				t.Errorf("endpoints %v not in argument order", eps)
			}
			if eps[0].Scope != tt.scope || eps[1].Scope != tt.scope {
				t.Errorf("scopes of %v, want %s on both sides", eps, tt.scope)
			}
		})
	}
}

func TestParseSide(t *testing.T) {
	for in, want := range map[string][2]string{"mysql": {"mysql", ""}, "mysql:server": {"mysql", "server"}} {
		app, ep, err := relation.ParseSide(in)
		if err != nil || app != want[0] || ep != want[1] {
			t.Errorf("ParseSide(%q) = %q %q %v", in, app, ep, err)
		}
	}
	for _, bad := range []string{"", "mysql:", "Bad", ":x"} {
		if _, _, err := relation.ParseSide(bad); err == nil {
			t.Errorf("ParseSide(%q) accepted", bad)
		}
	}
}

func TestCheckNewRelation(t *testing.T) {
	mk := func(id int, life entity.Life, eps ...entity.Endpoint) entity.Relation {
		return entity.Relation{ID: id, Key: entity.RelationKeyOf(eps), Endpoints: eps, Life: life}
	}
	db := entity.Endpoint{Application: "wordpress", Name: "db", Role: entity.RoleRequirer, Limit: 1}
	s1 := entity.Endpoint{Application: "mysql", Name: "server", Role: entity.RoleProvider}
	s2 := entity.Endpoint{Application: "pg", Name: "server", Role: entity.RoleProvider}
	existing := []entity.Relation{mk(0, entity.Alive, db, s1)}
	if err := model.CheckNewRelation(mk(1, entity.Alive, db, s1), existing); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate: %v", err)
	}
	if err := model.CheckNewRelation(mk(1, entity.Alive, db, s2), existing); err == nil || !strings.Contains(err.Error(), "maximum relation limit of 1") {
		t.Errorf("limit: %v", err)
	}
	dying := []entity.Relation{mk(0, entity.Dying, db, s1)}
	if err := model.CheckNewRelation(mk(1, entity.Alive, db, s2), dying); err != nil {
		t.Errorf("a dying relation must not count against the limit: %v", err)
	}
	if k := entity.RelationKeyOf([]entity.Endpoint{s1, db}); k != "wordpress:db mysql:server" {
		t.Errorf("key %q: want the requirer first, as Juju's", k)
	}
}
