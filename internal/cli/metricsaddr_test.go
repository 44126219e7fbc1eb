package cli

import (
	"net"
	"strings"
	"testing"
)

func TestChooseMetricsAddress(t *testing.T) {
	got, err := chooseMetricsAddress("")
	if err != nil || !strings.HasPrefix(got, "127.0.0.1:") || strings.HasSuffix(got, ":0") {
		t.Errorf("default: %q %v, want a fixed free loopback port", got, err)
	}
	if got, err := chooseMetricsAddress("127.0.0.1:0"); err != nil || got != "127.0.0.1:0" {
		t.Errorf("explicit :0 is kept for the controller to choose: %q %v", got, err)
	}
	for _, bad := range []string{"9100", "127.0.0.1:x", "127.0.0.1:70000"} {
		if _, err := chooseMetricsAddress(bad); err == nil || !strings.Contains(err.Error(), "host:port") {
			t.Errorf("%q: got %v, want a usage error naming host:port", bad, err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := chooseMetricsAddress(l.Addr().String()); err == nil || !strings.Contains(err.Error(), "--metrics-address") {
		t.Errorf("busy port: got %v, want an error saying to choose another", err)
	}
}
