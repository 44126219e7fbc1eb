package constraints

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   []string
		want string // JSON
		err  string
	}{
		{[]string{"mem=1G", "cores=4"}, `{"cores":4,"mem":1024}`, ""},
		{[]string{"mem=1G cores=4"}, `{"cores":4,"mem":1024}`, ""},
		{[]string{"root-disk=1638.4"}, `{"root-disk":1639}`, ""},
		{[]string{"mem=16G", "mem=2G"}, `{"mem":2048}`, ""},
		{[]string{"mem=512M arch=arm64 tags=a,b allocate-public-ip=true"}, `{"allocate-public-ip":true,"arch":"arm64","mem":512,"tags":["a","b"]}`, ""},
		{[]string{"cores=4", "cores="}, `{}`, ""},
		{nil, `{}`, ""},
		{[]string{"mem=lots"}, "", `bad "mem" constraint "lots"`},
		{[]string{"cores=-1"}, "", `bad "cores" constraint`},
		{[]string{"colour=red"}, "", `unknown constraint "colour"`},
		{[]string{"mem"}, "", `malformed constraint "mem"`},
		{[]string{"arch=z80"}, "", `bad "arch" constraint`},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q): err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		data, _ := json.Marshal(got)
		if string(data) != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, data, tt.want)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	c, err := Parse([]string{"mem=1G cores=4 tags=x,y arch=amd64"})
	if err != nil {
		t.Fatal(err)
	}
	s := Format(c)
	if s != "arch=amd64 cores=4 mem=1024M tags=x,y" {
		t.Fatalf("Format = %q", s)
	}
	back, err := Parse([]string{s})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(c)
	b, _ := json.Marshal(back)
	if string(a) != string(b) {
		t.Fatalf("round trip %s != %s", a, b)
	}
}
