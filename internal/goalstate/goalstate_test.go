package goalstate_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/goalstate"
)

func unit(name string, life entity.Life, workload string, since time.Time) entity.Unit {
	app, _, _ := entity.SplitUnitName(name)
	return entity.Unit{Name: name, Application: app, Life: life, Workload: entity.Status{Current: workload, Since: since}}
}

func rel(life entity.Life, eps ...entity.Endpoint) entity.Relation {
	return entity.Relation{Endpoints: eps, Life: life}
}

func TestBuild(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ep := func(app, name string) entity.Endpoint { return entity.Endpoint{Application: app, Name: name} }
	units := []entity.Unit{
		unit("web/0", entity.Alive, "active", t0),
		unit("web/1", entity.Dying, "active", t0),
		unit("web/2", entity.Dead, "active", t0),
		unit("web/3", entity.Alive, "", time.Time{}),
		unit("db/0", entity.Alive, "active", t0),
		unit("db/1", entity.Alive, "waiting", t0),
		unit("db/2", entity.Dying, "active", t0),
		unit("cache/0", entity.Alive, "active", t0),
	}
	cases := []struct {
		name string
		rels []goalstate.Relation
		want goalstate.Doc
	}{{
		name: "no relations: own units, dead left out, dying shown, no status is waiting",
		want: goalstate.Doc{
			Units: map[string]goalstate.Status{
				"web/0": {"active", t0}, "web/1": {"dying", time.Time{}}, "web/3": {"waiting", time.Time{}},
			},
			Relations: map[string]map[string]goalstate.Status{},
		},
	}, {
		name: "regular relation: joined in scope, joining not yet, dying units; peer lists the others",
		rels: []goalstate.Relation{
			{Relation: rel(entity.Alive, ep("web", "db"), ep("db", "server")), InScope: map[string]bool{"db/0": true}},
			{Relation: rel(entity.Alive, ep("web", "peers")), InScope: map[string]bool{"web/0": true, "web/3": true}},
			{Relation: rel(entity.Dying, ep("web", "cache"), ep("cache", "c")), InScope: map[string]bool{"cache/0": true}},
			{Relation: rel(entity.Dead, ep("web", "old"), ep("db", "x"))},
			{Relation: rel(entity.Alive, ep("db", "y"), ep("cache", "z"))},
		},
		want: goalstate.Doc{
			Units: map[string]goalstate.Status{
				"web/0": {"active", t0}, "web/1": {"dying", time.Time{}}, "web/3": {"waiting", time.Time{}},
			},
			Relations: map[string]map[string]goalstate.Status{
				"db": {"db": {Status: "joined"}, "db/0": {Status: "joined"}, "db/1": {Status: "joining"}, "db/2": {Status: "dying"}},
				// self (web/0) is not its own peer.
				"peers": {"web/1": {Status: "dying"}, "web/3": {Status: "joined"}},
				"cache": {"cache": {Status: "dying"}, "cache/0": {Status: "dying"}},
			},
		},
	}, {
		name: "nobody in scope yet: the application is joining",
		rels: []goalstate.Relation{{Relation: rel(entity.Alive, ep("web", "db"), ep("db", "server"))}},
		want: goalstate.Doc{
			Units: map[string]goalstate.Status{
				"web/0": {"active", t0}, "web/1": {"dying", time.Time{}}, "web/3": {"waiting", time.Time{}},
			},
			Relations: map[string]map[string]goalstate.Status{
				"db": {"db": {Status: "joining"}, "db/0": {Status: "joining"}, "db/1": {Status: "joining"}, "db/2": {Status: "dying"}},
			},
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := goalstate.Build("web/0", units, c.rels)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}
