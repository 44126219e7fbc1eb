package lint

import (
	"slices"
	"testing"
)

func TestUnderAny(t *testing.T) {
	tests := []struct {
		path string
		dirs []string
		want bool
	}{
		{module + "/controller", []string{"controller"}, true},
		{module + "/controller/apiserver", []string{"controller"}, true},
		{module + "/controllerx", []string{"controller"}, false},
		{module + "/internal/controller", []string{"controller"}, false},
		{module + "/workers/uniter", []string{"actors", "workers"}, true},
		{"example.com/controller", []string{"controller"}, false},
	}
	for _, tt := range tests {
		if got := underAny(tt.path, tt.dirs); got != tt.want {
			t.Errorf("underAny(%q, %q) = %v, want %v", tt.path, tt.dirs, got, tt.want)
		}
	}
}

func TestImportChain(t *testing.T) {
	all := map[string]*pkg{
		"a": {ImportPath: "a", Imports: []string{"b", "c"}},
		"b": {ImportPath: "b", Imports: []string{"d"}},
		"c": {ImportPath: "c", Imports: []string{"e"}},
		"e": {ImportPath: "e", Imports: []string{"d"}},
		"d": {ImportPath: "d"},
	}
	if got, want := importChain(all, "a", "d"), []string{"a", "b", "d"}; !slices.Equal(got, want) {
		t.Errorf("importChain(a, d) = %q, want shortest %q", got, want)
	}
	if got, want := importChain(all, "d", "a"), []string{"d", "…", "a"}; !slices.Equal(got, want) {
		t.Errorf("importChain(d, a) = %q, want %q", got, want)
	}
}
