package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Server holds the API server's certificate and swaps it without
// downtime: the TLS config's GetCertificate reads the current one on every
// handshake, so a rotation reaches every new connection at once while open
// connections keep the certificate they were made with.
type Server struct {
	ca   Bundle // CA certificate and key (key empty: no rotation)
	file string // where a rotated certificate is kept (cert then key, PEM)

	mu   sync.Mutex
	cur  *tls.Certificate // guarded by mu
	leaf *x509.Certificate
}

// NewServer serves initial, or the certificate rotated into file by an
// earlier run when there is one. ca.KeyPEM may be empty: Rotate then
// fails.
func NewServer(ca, initial Bundle, file string) (*Server, error) {
	s := &Server{ca: ca, file: file}
	b := initial
	if data, err := os.ReadFile(file); err == nil {
		cert, key := splitPEM(data)
		b = Bundle{CertPEM: cert, KeyPEM: key}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cannot read the rotated server certificate: %w", err)
	}
	if err := s.set(b); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) set(b Bundle) error {
	pair, err := tls.X509KeyPair(b.CertPEM, b.KeyPEM)
	if err != nil {
		return fmt.Errorf("cannot load server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("cannot parse server certificate: %w", err)
	}
	s.mu.Lock()
	s.cur, s.leaf = &pair, leaf
	s.mu.Unlock()
	return nil
}

// TLSConfig is the server side TLS configuration.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.cur, nil
	}}
}

// Current is the certificate being served.
func (s *Server) Current() *x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leaf
}

// Rotate issues a new certificate for the same names from the CA, keeps it
// in the file (0600) and serves it from the next handshake on.
func (s *Server) Rotate() (*x509.Certificate, error) {
	if len(s.ca.KeyPEM) == 0 {
		return nil, errors.New("this controller has no CA key (bootstrapped before rotate-certs existed); re-bootstrap to rotate certificates")
	}
	old := s.Current()
	hosts := append([]string(nil), old.DNSNames...)
	for _, ip := range old.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "localhost", ServerName}
	}
	b, err := IssueServer(s.ca, hosts)
	if err != nil {
		return nil, fmt.Errorf("cannot issue a server certificate: %w", err)
	}
	tmp := s.file + ".tmp"
	if err := os.MkdirAll(filepath.Dir(s.file), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(tmp, append(append([]byte(nil), b.CertPEM...), b.KeyPEM...), 0o600); err != nil {
		return nil, fmt.Errorf("cannot store the new server certificate: %w", err)
	}
	if err := os.Rename(tmp, s.file); err != nil {
		return nil, fmt.Errorf("cannot store the new server certificate: %w", err)
	}
	if err := s.set(b); err != nil {
		return nil, err
	}
	return s.Current(), nil
}

// splitPEM separates the certificate and key blocks of a PEM file.
func splitPEM(data []byte) (cert, key []byte) {
	var c, k bytes.Buffer
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return c.Bytes(), k.Bytes()
		}
		if blk.Type == "CERTIFICATE" {
			pem.Encode(&c, blk)
		} else {
			pem.Encode(&k, blk)
		}
	}
}
