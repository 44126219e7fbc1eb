package store

import (
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/etcd/client/pkg/v3/transport"

	"github.com/troupe-dev/troupe/internal/pki"
)

// The controller talks to its etcd member in-process (v3client), never
// over the network, yet etcd must listen for clients and peers. Those
// listeners are on loopback, where any local process could reach them
// and bypass the API's authorization entirely. So both require TLS with
// a client certificate signed by a CA made afresh at each Open whose key
// is never written anywhere: no certificate that etcd would accept exists
// outside this process, and nobody can talk to the member but its own
// controller.

// lockedListeners writes the listeners' certificate and the throwaway
// CA's certificate under dir (0700; keys 0600) and returns the TLS
// settings for etcd's client and peer listeners.
func lockedListeners(dir string) (transport.TLSInfo, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return transport.TLSInfo{}, fmt.Errorf("cannot create %s: %w", dir, err)
	}
	ca, err := pki.NewCA("troupe-etcd-listeners")
	if err != nil {
		return transport.TLSInfo{}, err
	}
	srv, err := pki.IssueServer(ca, []string{"127.0.0.1", "localhost"})
	if err != nil {
		return transport.TLSInfo{}, err
	}
	files := map[string][]byte{"ca.crt": ca.CertPEM, "server.crt": srv.CertPEM, "server.key": srv.KeyPEM}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return transport.TLSInfo{}, fmt.Errorf("cannot write %s: %w", name, err)
		}
	}
	return transport.TLSInfo{
		CertFile:       filepath.Join(dir, "server.crt"),
		KeyFile:        filepath.Join(dir, "server.key"),
		TrustedCAFile:  filepath.Join(dir, "ca.crt"),
		ClientCertAuth: true,
	}, nil
}
