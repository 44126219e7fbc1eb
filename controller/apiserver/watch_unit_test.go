package apiserver

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/watchhub"
)

func TestDocChangesDropsReportsAndLeaseRenewals(t *testing.T) {
	const ukey, akey, rkey = "m/unit/app/0", "m/application/app", "m/relation/1"
	enc := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	u := entity.Unit{Name: "app/0", Application: "app", Machine: "0", Life: entity.Alive}
	a := entity.Application{Name: "app", CharmURL: "local:app-0", Life: entity.Alive, Leader: "app/0", LeaseExpiry: time.Unix(100, 0)}
	unit := func(change func(*entity.Unit)) watchhub.Event {
		change(&u)
		return watchhub.Event{Revision: 1, Key: ukey, Value: enc(u)}
	}
	app := func(change func(*entity.Application)) watchhub.Event {
		change(&a)
		return watchhub.Event{Revision: 1, Key: akey, Value: enc(a)}
	}
	c := newDocChanges(map[string][]string{ukey: unitReportFields, akey: applicationReportFields})
	for i, step := range []struct {
		what string
		ev   watchhub.Event
		want bool
	}{
		{"baseline", watchhub.Event{Revision: 3}, true},
		{"first unit document", unit(func(*entity.Unit) {}), true},
		{"its agent status", unit(func(u *entity.Unit) { u.Agent = entity.Status{Current: "executing"} }), false},
		{"a hook commit", unit(func(u *entity.Unit) { u.CommitSeq, u.CharmState = 4, map[string]string{"k": "v"} }), false},
		{"status history", unit(func(u *entity.Unit) { u.StatusSeq++; u.Workload = entity.Status{Current: "active"} }), false},
		{"resolve", unit(func(u *entity.Unit) { u.Resolved = "retry-hooks" }), true},
		{"life", unit(func(u *entity.Unit) { u.Life = entity.Dying }), true},
		{"first application document", app(func(*entity.Application) {}), true},
		{"a lease renewal", app(func(a *entity.Application) { a.LeaseExpiry = a.LeaseExpiry.Add(time.Minute) }), false},
		{"application status", app(func(a *entity.Application) { a.Status = entity.Status{Current: "active"} }), false},
		{"a new leader", app(func(a *entity.Application) { a.Leader = "app/1" }), true},
		{"config", app(func(a *entity.Application) { a.ConfigHash = "h2" }), true},
		{"leader settings", app(func(a *entity.Application) { a.LeaderSettings = map[string]string{"k": "v"} }), true},
		{"another key passes", watchhub.Event{Revision: 1, Key: rkey, Value: []byte("{}")}, true},
		{"the same other key again", watchhub.Event{Revision: 1, Key: rkey, Value: []byte("{}")}, true},
		{"a deletion", watchhub.Event{Revision: 1, Key: ukey, Deleted: true}, true},
		{"after the deletion, the document is new", unit(func(*entity.Unit) {}), true},
		{"an undecodable document", watchhub.Event{Revision: 1, Key: ukey, Value: []byte("{")}, true},
	} {
		if got := c.keep(step.ev); got != step.want {
			t.Errorf("step %d, %s: keep = %v, want %v", i, step.what, got, step.want)
		}
	}
}
