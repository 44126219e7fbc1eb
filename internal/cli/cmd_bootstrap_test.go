package cli

import (
	"strings"
	"testing"
)

func TestBootstrapLXDSettings(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		want    string
		wantErr string
	}{
		{nil, "", ""},
		{[]string{"logging-config=<root>=INFO"}, "", ""},
		{[]string{"lxd-project=a", "lxd-project=b"}, "b", ""},
		{[]string{"foo=1 lxd-project=edge"}, "edge", ""},
		{[]string{"lxd-project="}, "", "name an existing LXD project"},
		{[]string{"lxd-project=a/b"}, "", "name an existing LXD project"},
		{[]string{"novalue"}, "", "expected key=value"},
		{[]string{"lxd-image="}, "", "name an image alias"},
	} {
		got, _, err := bootstrapLXDSettings(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestBootstrapLXDImage(t *testing.T) {
	project, image, err := bootstrapLXDSettings([]string{"lxd-image=mine/img lxd-project=p"})
	if err != nil || project != "p" || image != "mine/img" {
		t.Fatalf("got project %q image %q err %v; want p, mine/img", project, image, err)
	}
}
