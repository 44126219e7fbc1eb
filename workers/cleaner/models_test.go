package cleaner

import (
	"reflect"
	"testing"

	"github.com/troupe-dev/troupe/internal/entity"
)

func TestDecideModel(t *testing.T) {
	dying := entity.Model{UUID: "m", Name: "doomed", Life: entity.Dying}
	app := func(name string, l entity.Life) entity.Application { return entity.Application{Name: name, Life: l} }
	unit := func(name, machine string, l entity.Life) entity.Unit {
		return entity.Unit{Name: name, Machine: machine, Life: l}
	}
	mc := func(id string, l entity.Life, standalone bool) entity.Machine {
		return entity.Machine{ID: id, Life: l, Standalone: standalone}
	}
	tests := []struct {
		name     string
		model    entity.Model
		apps     []entity.Application
		units    []entity.Unit
		machines []entity.Machine
		want     []Action
	}{
		{"alive model untouched", entity.Model{UUID: "m", Life: entity.Alive},
			[]entity.Application{app("a", entity.Alive)}, nil, []entity.Machine{mc("0", entity.Alive, true)}, nil},
		{"empty dying model is removed", dying, nil, nil, nil, []Action{{"m", "remove-model", "doomed"}}},
		{"alive apps destroyed, occupied machine kept, standalone machine destroyed", dying,
			[]entity.Application{app("a", entity.Alive), app("b", entity.Dying)},
			[]entity.Unit{unit("a/0", "0", entity.Alive)},
			[]entity.Machine{mc("0", entity.Alive, false), mc("1", entity.Alive, true)},
			[]Action{{"m", "destroy-application", "a"}, {"m", "destroy-machine", "1"}}},
		{"waits for dying machines", dying,
			[]entity.Application{app("a", entity.Dead)}, []entity.Unit{unit("a/0", "0", entity.Dead)},
			[]entity.Machine{mc("0", entity.Dying, false)}, nil},
		{"everything dead: removed", dying,
			[]entity.Application{app("a", entity.Dead)}, []entity.Unit{unit("a/0", "0", entity.Dead)},
			[]entity.Machine{mc("0", entity.Dead, false)}, []Action{{"m", "remove-model", "doomed"}}},
		{"a dead unit does not hold its machine", dying,
			[]entity.Application{app("a", entity.Dying)}, []entity.Unit{unit("a/0", "0", entity.Dead)},
			[]entity.Machine{mc("0", entity.Alive, false)}, []Action{{"m", "destroy-machine", "0"}}},
	}
	for _, tt := range tests {
		if got := DecideModel(tt.model, tt.apps, tt.units, tt.machines); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
