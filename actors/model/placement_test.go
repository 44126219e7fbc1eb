package model

import (
	"reflect"
	"strings"
	"testing"
)

func TestPlacement(t *testing.T) {
	for _, tc := range []struct {
		to   []string
		n    int
		want []string
		err  string
	}{
		{nil, 3, []string{}, ""},
		{[]string{"0", "0", "0"}, 3, []string{"0", "0", "0"}, ""},
		{[]string{"4"}, 2, []string{"4"}, ""},
		{[]string{"0", "1"}, 1, nil, "2 placements for 1 units"},
		{[]string{"lxd:0"}, 1, nil, "not supported yet: containers"},
		{[]string{"lxd"}, 1, nil, "not supported yet: containers"},
		{[]string{"zone=a"}, 1, nil, "not supported yet"},
		{[]string{"01"}, 1, nil, "not supported yet"},
		{[]string{""}, 1, nil, "empty placement"},
	} {
		got, err := Placement(tc.to, tc.n)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v n=%d: got %v, want error %q", tc.to, tc.n, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v n=%d: got %v, %v; want %v", tc.to, tc.n, got, err, tc.want)
		}
	}
}
