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
