package subordinates

import (
	"reflect"
	"testing"

	"github.com/troupe-dev/troupe/internal/entity"
)

func TestDecide(t *testing.T) {
	apps := []entity.Application{
		{Name: "web", Life: entity.Alive},
		{Name: "logs", Life: entity.Alive, Subordinate: true},
	}
	container := entity.Relation{ID: 3, Life: entity.Alive, Endpoints: []entity.Endpoint{
		{Application: "logs", Name: "juju-info", Role: entity.RoleRequirer, Scope: entity.ScopeContainer},
		{Application: "web", Name: "juju-info", Role: entity.RoleProvider, Scope: entity.ScopeContainer},
	}}
	global := entity.Relation{ID: 4, Life: entity.Alive, Endpoints: []entity.Endpoint{
		{Application: "logs", Name: "x", Scope: entity.ScopeGlobal}, {Application: "web", Name: "y", Scope: entity.ScopeGlobal},
	}}
	unit := func(name, app, principal string, l entity.Life) entity.Unit {
		return entity.Unit{Name: name, Application: app, Principal: principal, Life: l, Machine: "0"}
	}
	dying := container
	dying.Life = entity.Dying
	tests := []struct {
		name string
		st   State
		want []Action
	}{
		{"principal in scope gets one", State{Apps: apps, Relations: []entity.Relation{container},
			Units:   []entity.Unit{unit("web/0", "web", "", entity.Alive), unit("web/1", "web", "", entity.Alive)},
			InScope: map[string]bool{"3/web/0": true, "3/web/1": true}},
			[]Action{{Kind: "add", App: "logs", Principal: "web/0"}, {Kind: "add", App: "logs", Principal: "web/1"}}},
		{"not yet in scope: nothing", State{Apps: apps, Relations: []entity.Relation{container},
			Units: []entity.Unit{unit("web/0", "web", "", entity.Alive)}, InScope: map[string]bool{}}, nil},
		{"existing subordinate: nothing", State{Apps: apps, Relations: []entity.Relation{container},
			Units:   []entity.Unit{unit("web/0", "web", "", entity.Alive), unit("logs/0", "logs", "web/0", entity.Alive)},
			InScope: map[string]bool{"3/web/0": true}}, nil},
		{"global relation makes none", State{Apps: apps, Relations: []entity.Relation{global},
			Units: []entity.Unit{unit("web/0", "web", "", entity.Alive)}, InScope: map[string]bool{"4/web/0": true}}, nil},
		{"dying principal: subordinate destroyed", State{Apps: apps, Relations: []entity.Relation{container},
			Units:   []entity.Unit{unit("web/0", "web", "", entity.Dying), unit("logs/0", "logs", "web/0", entity.Alive)},
			InScope: map[string]bool{"3/web/0": true}},
			[]Action{{Kind: "destroy", Unit: "logs/0"}}},
		{"principal gone: subordinate destroyed", State{Apps: apps, Relations: []entity.Relation{container},
			Units: []entity.Unit{unit("logs/0", "logs", "web/0", entity.Alive)}},
			[]Action{{Kind: "destroy", Unit: "logs/0"}}},
		{"relation dying: subordinate destroyed", State{Apps: apps, Relations: []entity.Relation{dying},
			Units: []entity.Unit{unit("web/0", "web", "", entity.Alive), unit("logs/0", "logs", "web/0", entity.Alive)}},
			[]Action{{Kind: "destroy", Unit: "logs/0"}}},
		{"dying subordinate left alone", State{Apps: apps, Relations: []entity.Relation{container},
			Units:   []entity.Unit{unit("web/0", "web", "", entity.Dying), unit("logs/0", "logs", "web/0", entity.Dying)},
			InScope: map[string]bool{"3/web/0": true}}, nil},
	}
	for _, tt := range tests {
		if got := Decide(tt.st); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
