package apiserver

import (
	"errors"
	"testing"

	"github.com/troupe-dev/troupe/internal/entity"
)

func TestMayLogFor(t *testing.T) {
	machines := map[string]string{"a/0": "0", "a/1": "1"}
	machineOf := func(unit string) (string, error) { return machines[unit], nil }
	unit := entity.Tag{Kind: entity.KindUnit, Name: "a/0", Model: "m"}
	machine0 := entity.Tag{Kind: entity.KindMachine, Name: "0", Model: "m"}
	cases := []struct {
		caller entity.Tag
		who    string
		want   bool
	}{
		{unit, "unit-a-0", true},
		{unit, "unit-a-1", false},
		{unit, "machine-0", false},
		{machine0, "machine-0", true},
		{machine0, "machine-1", false},
		{machine0, "unit-a-0", true},  // assigned to machine 0
		{machine0, "unit-a-1", false}, // on machine 1
		{machine0, "unit-b-0", false}, // no such unit
		{machine0, "garbage", false},
	}
	for _, c := range cases {
		got, err := mayLogFor(c.caller, c.who, machineOf)
		if err != nil || got != c.want {
			t.Errorf("%s sending for %s: %v, %v; want %v", c.caller, c.who, got, err, c.want)
		}
	}
	boom := errors.New("store down")
	if _, err := mayLogFor(machine0, "unit-a-0", func(string) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Errorf("store error: %v", err)
	}
}
