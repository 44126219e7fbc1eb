package cli

import (
	"reflect"
	"strings"
	"testing"
)

func TestExecReceivers(t *testing.T) {
	for _, c := range []struct {
		units, machines []string
		want            []string
		err             string
	}{
		{units: []string{"hello/0"}, want: []string{"hello/0"}},
		{machines: []string{"0", "0/lxd/1"}, want: []string{"0", "0/lxd/1"}},
		{err: "no unit or machine specified"},
		{units: []string{"hello/0"}, machines: []string{"0"}, err: "cannot be combined"},
		{machines: []string{"hello/0"}, err: `invalid machine id "hello/0"`},
		{machines: []string{"01"}, err: `invalid machine id "01"`},
	} {
		got, err := execReceivers(c.units, c.machines)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v %v: error %v, want %q", c.units, c.machines, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v %v: got %v, %v; want %v", c.units, c.machines, got, err, c.want)
		}
	}
}
