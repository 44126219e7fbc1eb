package apiserver

import (
	"encoding/json"
	"testing"

	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/watchhub"
)

func TestMachineUnitChangesKeepsOnlyWhatTheDeployerActsOn(t *testing.T) {
	const prefix = "m/unit/"
	doc := func(u entity.Unit) []byte {
		b, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ev := func(name string, u *entity.Unit) watchhub.Event {
		if u == nil {
			return watchhub.Event{Revision: 1, Key: prefix + name, Deleted: true}
		}
		return watchhub.Event{Revision: 1, Key: prefix + name, Value: doc(*u)}
	}
	mine := entity.Unit{Name: "app/0", Machine: "1", Life: entity.Alive}
	busy := mine
	busy.Agent = entity.Status{Current: "executing"}
	dying := mine
	dying.Life = entity.Dying
	other := entity.Unit{Name: "app/1", Machine: "2", Life: entity.Alive}
	otherDying := other
	otherDying.Life = entity.Dying

	c := newMachineUnitChanges("1", prefix)
	for i, step := range []struct {
		what string
		ev   watchhub.Event
		want bool
	}{
		{"baseline", watchhub.Event{Revision: 7}, true},
		{"the machine's document", watchhub.Event{Revision: 8, Key: "m/machine/1", Value: []byte("{}")}, true},
		{"a new unit of this machine", ev("app/0", &mine), true},
		{"the same unit again", ev("app/0", &mine), false},
		{"its agent status", ev("app/0", &busy), false},
		{"its life", ev("app/0", &dying), true},
		{"a unit of another machine", ev("app/1", &other), false},
		{"that unit's life", ev("app/1", &otherDying), false},
		{"a removal", ev("app/0", nil), true},
		{"an undecodable document", watchhub.Event{Revision: 9, Key: prefix + "app/2", Value: []byte("{")}, true},
		{"the removed unit back (a new unit of that name)", ev("app/0", &mine), true},
	} {
		if got := c.keep(step.ev); got != step.want {
			t.Errorf("step %d, %s: keep = %v, want %v", i, step.what, got, step.want)
		}
	}
}
