package entity

import "testing"

func TestReceivers(t *testing.T) {
	for _, c := range []struct {
		in, tag, kind string
		machine       bool
	}{
		{"0", "machine-0", "machine", true},
		{"12", "machine-12", "machine", true},
		{"0/lxd/3", "machine-0-lxd-3", "machine", true},
		{"hello/0", "unit-hello-0", "unit", false},
		{"a1/10", "unit-a1-10", "unit", false},
		{"0/", "unit-0-", "unit", false},
		{"01", "unit-01", "unit", false},
		{"0/lxd/01", "unit-0-lxd-01", "unit", false},
		{"", "unit-", "unit", false},
	} {
		if got := IsMachineID(c.in); got != c.machine {
			t.Errorf("IsMachineID(%q) = %v", c.in, got)
		}
		if got := ReceiverTag(c.in); got != c.tag {
			t.Errorf("ReceiverTag(%q) = %q, want %q", c.in, got, c.tag)
		}
		if got := ReceiverKind(c.in); got != c.kind {
			t.Errorf("ReceiverKind(%q) = %q, want %q", c.in, got, c.kind)
		}
	}
}
