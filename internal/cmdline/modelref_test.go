package cmdline

import (
	"strings"
	"testing"
)

func TestParseModelRef(t *testing.T) {
	tests := []struct {
		in   string
		want ModelRef
	}{
		{"m", ModelRef{Model: "m"}},
		{"jubilant-1a2b3c4d", ModelRef{Model: "jubilant-1a2b3c4d"}},
		{"alice/m", ModelRef{User: "alice", Model: "m"}},
		{"ctrl:m", ModelRef{Controller: "ctrl", Model: "m"}},
		{"ctrl:alice/m", ModelRef{Controller: "ctrl", User: "alice", Model: "m"}},
		{"my_ctrl.1:bob@external/m-2", ModelRef{Controller: "my_ctrl.1", User: "bob@external", Model: "m-2"}},
		{"0model", ModelRef{Model: "0model"}},
	}
	for _, tt := range tests {
		got, err := ParseModelRef(tt.in)
		if err != nil {
			t.Errorf("ParseModelRef(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseModelRef(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("ParseModelRef(%q).String() = %q", tt.in, s)
		}
	}
}

func TestParseModelRefErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "model name is empty"},
		{"Model", `invalid model name "Model"`},
		{"-m", `invalid model name "-m"`},
		{"my_model", `invalid model name "my_model"`},
		{"ctrl:", "model name is empty"},
		{":m", "the controller before"},
		{"c/d:m", `invalid controller name "c/d"`},
		{"ctrl:a:m", `invalid model name "a:m"`},
		{"/m", `invalid user name ""`},
		{"ctrl:alice/", "model name is empty"},
		{"a/b/c", `invalid model name "b/c"`},
		{"al ice/m", `invalid user name "al ice"`},
	}
	for _, tt := range tests {
		_, err := ParseModelRef(tt.in)
		if err == nil {
			t.Errorf("ParseModelRef(%q) succeeded, want error containing %q", tt.in, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseModelRef(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
		}
		if !strings.Contains(err.Error(), "model") {
			t.Errorf("ParseModelRef(%q) error %q does not mention the model", tt.in, err)
		}
	}
}

func TestValidateModelName(t *testing.T) {
	for _, ok := range []string{"a", "default", "m-1", "123"} {
		if err := ValidateModelName(ok); err != nil {
			t.Errorf("ValidateModelName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "A", "a_b", "a.b", "-a", "a/b", "ctrl:a", "a b"} {
		if err := ValidateModelName(bad); err == nil {
			t.Errorf("ValidateModelName(%q) succeeded", bad)
		}
	}
}
