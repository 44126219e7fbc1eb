package apiserver

import (
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
)

// TestTranslateState: the offering model's units see a consuming model's
// relation under their own relation id, with their own application's
// name and the consumer as remote-<hex>.
func TestTranslateState(t *testing.T) {
	l := &entity.RelationLink{ID: 7, Application: "kvstore", Alias: "kvs", ConsumerApp: "kvclient", RemoteName: "remote-abc0000000000000000000000000000f", RelationID: 2}
	st := &relation.State{
		Relation: entity.Relation{ID: 2, Life: entity.Alive, Endpoints: []entity.Endpoint{
			{Application: "kvclient", Name: "db", Role: entity.RoleRequirer, Interface: "kv"},
			{Application: "kvs", Name: "db", Role: entity.RoleProvider, Interface: "kv"}}},
		Units: map[string]*entity.RelationUnit{
			"kvs/0":      {Relation: 2, Unit: "kvs/0", InScope: true, Settings: map[string]string{"host": "kvstore/0"}, Version: 2},
			"kvclient/0": {Relation: 2, Unit: "kvclient/0", InScope: true, Settings: map[string]string{"want": "k"}, Version: 1}},
		Apps: map[string]*entity.RelationApp{"kvs": {Relation: 2, Application: "kvs", Settings: map[string]string{"endpoint": "kv://kvstore"}, Version: 1}},
	}
	got := translateState(st, l)
	if got.Relation.ID != 7 || got.Relation.Key != "remote-abc0000000000000000000000000000f:db kvstore:db" {
		t.Errorf("relation = %+v", got.Relation)
	}
	if _, ok := got.Relation.Endpoint("kvstore"); !ok || got.Relation.RemoteApp("kvstore") != l.RemoteName {
		t.Errorf("endpoints = %+v", got.Relation.Endpoints)
	}
	if u := got.Units["kvstore/0"]; u == nil || u.Unit != "kvstore/0" || u.Relation != 7 || u.Settings["host"] != "kvstore/0" || u.Version != 2 {
		t.Errorf("own unit = %+v", u)
	}
	if u := got.Units[l.RemoteName+"/0"]; u == nil || u.Settings["want"] != "k" {
		t.Errorf("remote unit = %+v (units %v)", u, got.Units)
	}
	if a := got.Apps["kvstore"]; a == nil || a.Settings["endpoint"] != "kv://kvstore" {
		t.Errorf("apps = %v", got.Apps)
	}
	// The consuming model's state is left as it was.
	if st.Relation.ID != 2 || st.Units["kvs/0"].Unit != "kvs/0" || st.Relation.Endpoints[1].Application != "kvs" {
		t.Errorf("translateState changed its input: %+v", st)
	}
}

func TestOfferEndpoints(t *testing.T) {
	meta := &charm.Meta{Name: "kvstore",
		Provides: map[string]charm.Relation{"db": {Name: "db", Interface: "kv", Role: charm.RoleProvider}},
		Requires: map[string]charm.Relation{"logs": {Name: "logs", Interface: "syslog", Role: charm.RoleRequirer}},
		Peers:    map[string]charm.Relation{"cluster": {Name: "cluster", Interface: "kv-cluster", Role: charm.RolePeer}}}
	got, err := offerEndpoints(meta, []string{"logs", "db", "db"})
	if err != nil || len(got) != 2 || got[0].Name != "db" || got[1].Name != "logs" {
		t.Errorf("offerEndpoints = %+v, %v; want db and logs, sorted, once each", got, err)
	}
	for _, bad := range []struct {
		eps    []string
		phrase string
	}{{nil, "no endpoints"}, {[]string{"cluster"}, "peer endpoint"}, {[]string{"nope"}, `no endpoint "nope"`}} {
		if _, err := offerEndpoints(meta, bad.eps); err == nil || !strings.Contains(err.Error(), bad.phrase) {
			t.Errorf("offerEndpoints(%v) = %v; want %q", bad.eps, err, bad.phrase)
		}
	}
}
