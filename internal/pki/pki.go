// Package pki creates the controller's certificate authority and the API
// server certificate at bootstrap, and the TLS configurations clients and
// agents use to pin that CA.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Bundle is a PEM certificate and key.
type Bundle struct {
	CertPEM []byte
	KeyPEM  []byte
}

// NewCA creates a self-signed CA valid for ten years.
func NewCA(name string) (Bundle, error) {
	return issue(name, nil, nil, true)
}

// IssueServer issues a server certificate for hosts (IPs or names).
func IssueServer(ca Bundle, hosts []string) (Bundle, error) {
	return issue("troupe-controller", &ca, hosts, false)
}

func issue(cn string, ca *Bundle, hosts []string, isCA bool) (Bundle, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Bundle{}, fmt.Errorf("cannot generate key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"troupe"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
	}
	if isCA {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		pair, err := tls.X509KeyPair(ca.CertPEM, ca.KeyPEM)
		if err != nil {
			return Bundle{}, fmt.Errorf("cannot load CA: %w", err)
		}
		parent, err = x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			return Bundle{}, fmt.Errorf("cannot parse CA: %w", err)
		}
		signer = pair.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return Bundle{}, fmt.Errorf("cannot create certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return Bundle{}, err
	}
	return Bundle{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
	}, nil
}

// ClientTLS returns a TLS config trusting only caPEM.
func ClientTLS(caPEM []byte) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("cannot parse controller CA certificate")
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, ServerName: ServerName}, nil
}

// ServerName is the name every API server certificate carries and every
// client verifies, whatever address it dialled.
const ServerName = "troupe-controller"
