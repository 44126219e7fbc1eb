package cleaner

import (
	"reflect"
	"testing"

	"github.com/troupe-dev/troupe/internal/entity"
)

func TestDecideRelations(t *testing.T) {
	app := func(name string, l entity.Life) entity.Application { return entity.Application{Name: name, Life: l} }
	rel := func(id int, l entity.Life, apps ...string) entity.Relation {
		r := entity.Relation{ID: id, Life: l}
		for _, a := range apps {
			r.Endpoints = append(r.Endpoints, entity.Endpoint{Application: a})
		}
		return r
	}
	dead := Action{"m", "application-dead", "a"}
	tests := []struct {
		name    string
		apps    []entity.Application
		rels    []entity.Relation
		actions []Action
		want    []Action
	}{
		{"alive apps keep their relations", []entity.Application{app("a", entity.Alive)},
			[]entity.Relation{rel(0, entity.Alive, "a", "b")}, nil, nil},
		{"a dying app destroys its alive relations, peers included, and waits for them",
			[]entity.Application{app("a", entity.Dying), app("b", entity.Alive)},
			[]entity.Relation{rel(0, entity.Alive, "a", "b"), rel(1, entity.Alive, "a"), rel(2, entity.Dying, "a", "c"), rel(3, entity.Alive, "b", "c")},
			[]Action{dead},
			[]Action{{"m", "destroy-relation", "0"}, {"m", "destroy-relation", "1"}}},
		{"a dying app whose relations are gone dies", []entity.Application{app("a", entity.Dying)},
			[]entity.Relation{rel(3, entity.Alive, "b", "c")}, []Action{dead}, []Action{dead}},
	}
	for _, tt := range tests {
		if got := DecideRelations("m", tt.apps, tt.rels, tt.actions); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
