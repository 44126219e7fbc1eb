package apiserver

import (
	"testing"

	"github.com/troupe-dev/troupe/internal/watchhub"
)

// TestDeployerChanges: a machine's watch notifies the baseline, its own
// document, and what changes its units or their life; not status-only
// writes of its units nor anything of other machines' units.
func TestDeployerChanges(t *testing.T) {
	const p = "/troupe/m/uuid/unit/"
	keep := deployerChanges("1", p)
	unit := func(name, machine, life string) watchhub.Event {
		return watchhub.Event{Key: p + name, Value: []byte(`{"name":"` + name + `","machine":"` + machine + `","life":"` + life + `","status":"x"}`)}
	}
	steps := []struct {
		what string
		ev   watchhub.Event
		want bool
	}{
		{"baseline", watchhub.Event{Revision: 5}, true},
		{"machine document", watchhub.Event{Key: "/troupe/m/uuid/machine/1", Value: []byte(`{}`)}, true},
		{"unit of another machine", unit("a/0", "2", "alive"), false},
		{"unit not assigned yet", unit("a/1", "", "alive"), false},
		{"unit assigned here", unit("a/1", "1", "alive"), true},
		{"status write of a unit here", unit("a/1", "1", "alive"), false},
		{"another status write of a unit elsewhere", unit("a/0", "2", "alive"), false},
		{"unit here dying", unit("a/1", "1", "dying"), true},
		{"unit here dead", unit("a/1", "1", "dead"), true},
		{"dead unit's later write", unit("a/1", "1", "dead"), false},
		{"unit here removed", watchhub.Event{Key: p + "a/1", Deleted: true}, true},
		{"unit elsewhere removed", watchhub.Event{Key: p + "a/0", Deleted: true}, false},
		{"undecodable unit document", watchhub.Event{Key: p + "a/2", Value: []byte("{")}, true},
		{"unit here again", unit("a/3", "1", "alive"), true},
		{"unit moved away", unit("a/3", "2", "alive"), true},
		{"moved unit's write elsewhere", unit("a/3", "2", "alive"), false},
	}
	for _, s := range steps {
		if got := keep(s.ev); got != s.want {
			t.Errorf("%s: notify = %v, want %v", s.what, got, s.want)
		}
	}
}
