package cli

import (
	"fmt"
	"net"
	"strconv"
)

// chooseMetricsAddress checks a --metrics-address value, or picks a free
// loopback port when none is given, so the address is fixed at bootstrap
// and stays the same across controller restarts.
func chooseMetricsAddress(flag string) (string, error) {
	if flag != "" {
		host, port, err := net.SplitHostPort(flag)
		if err != nil {
			return "", usage(fmt.Errorf("--metrics-address %q: %v; use host:port, e.g. 127.0.0.1:9100", flag, err))
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return "", usage(fmt.Errorf("--metrics-address %q: invalid port; use host:port, e.g. 127.0.0.1:9100", flag))
		}
		if port == "0" {
			return flag, nil // the controller picks one and records it in controller/metrics.addr
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return "", fmt.Errorf("cannot use metrics address %s: %v; choose another with --metrics-address", flag, err)
		}
		l.Close()
		return flag, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("cannot find a free loopback port for metrics: %v; choose one with --metrics-address", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
