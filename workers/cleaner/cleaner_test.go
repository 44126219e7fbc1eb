package cleaner

import (
	"reflect"
	"testing"

	"github.com/troupe-dev/troupe/internal/entity"
)

func TestDecide(t *testing.T) {
	app := func(name string, l entity.Life) entity.Application { return entity.Application{Name: name, Life: l} }
	unit := func(name, app string, l entity.Life) entity.Unit {
		return entity.Unit{Name: name, Application: app, Life: l}
	}
	tests := []struct {
		name  string
		apps  []entity.Application
		units []entity.Unit
		want  []Action
	}{
		{"alive app untouched", []entity.Application{app("a", entity.Alive)},
			[]entity.Unit{unit("a/0", "a", entity.Alive)}, nil},
		{"dying app destroys alive units only", []entity.Application{app("a", entity.Dying)},
			[]entity.Unit{unit("a/0", "a", entity.Alive), unit("a/1", "a", entity.Dying), unit("b/0", "b", entity.Alive)},
			[]Action{{"m", "destroy-unit", "a/0"}}},
		{"dying app waits for dying units", []entity.Application{app("a", entity.Dying)},
			[]entity.Unit{unit("a/0", "a", entity.Dying), unit("a/1", "a", entity.Dead)}, nil},
		{"dying app with all units dead dies", []entity.Application{app("a", entity.Dying)},
			[]entity.Unit{unit("a/0", "a", entity.Dead)}, []Action{{"m", "application-dead", "a"}}},
		{"dying app without units dies", []entity.Application{app("a", entity.Dying)}, nil,
			[]Action{{"m", "application-dead", "a"}}},
		{"dead app is done", []entity.Application{app("a", entity.Dead)},
			[]entity.Unit{unit("a/0", "a", entity.Dead)}, nil},
	}
	for _, tt := range tests {
		if got := Decide("m", tt.apps, tt.units); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDecideMachines(t *testing.T) {
	mc := func(id string, l entity.Life, standalone bool) entity.Machine {
		return entity.Machine{ID: id, Life: l, Standalone: standalone}
	}
	unit := func(name, machine string, l entity.Life) entity.Unit {
		return entity.Unit{Name: name, Machine: machine, Life: l}
	}
	tests := []struct {
		name     string
		machines []entity.Machine
		units    []entity.Unit
		want     []Action
	}{
		{"machine with an alive unit kept", []entity.Machine{mc("0", entity.Alive, false)},
			[]entity.Unit{unit("a/0", "0", entity.Alive)}, nil},
		{"shared machine kept while one unit is left", []entity.Machine{mc("0", entity.Alive, false)},
			[]entity.Unit{unit("a/0", "0", entity.Dead), unit("a/1", "0", entity.Dying), unit("b/0", "1", entity.Dead)}, nil},
		{"last unit dead releases the machine", []entity.Machine{mc("0", entity.Alive, false), mc("1", entity.Alive, false)},
			[]entity.Unit{unit("a/0", "0", entity.Dead), unit("a/1", "0", entity.Dead), unit("a/2", "1", entity.Alive)},
			[]Action{{"m", "destroy-machine", "0"}}},
		{"standalone machine kept when empty", []entity.Machine{mc("3", entity.Alive, true)},
			[]entity.Unit{unit("a/0", "3", entity.Dead)}, nil},
		{"dying machine not destroyed again", []entity.Machine{mc("0", entity.Dying, false)}, nil, nil},
	}
	for _, tt := range tests {
		if got := DecideMachines("m", tt.machines, tt.units); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
