package pki

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestServerRotate: after Rotate, a new handshake gets the new
// certificate (verified against the same CA), an open connection keeps
// working, and a new Server on the same file serves the rotated one.
func TestServerRotate(t *testing.T) {
	ca, err := NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	first, err := IssueServer(ca, []string{"127.0.0.1", ServerName})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "server-cert.pem")
	s, err := NewServer(ca, first, file)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { // echo
				defer c.Close()
				buf := make([]byte, 64)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					c.Write(buf[:n])
				}
			}()
		}
	}()
	ctls, err := ClientTLS(ca.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	dial := func() (*tls.Conn, string) {
		t.Helper()
		c, err := tls.Dial("tcp", l.Addr().String(), ctls)
		if err != nil {
			t.Fatal(err)
		}
		return c, c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	echo := func(c net.Conn) {
		t.Helper()
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := c.Read(buf); err != nil || string(buf) != "ping" {
			t.Fatalf("echo: %q %v", buf, err)
		}
	}
	old, oldSerial := dial()
	defer old.Close()
	echo(old)
	leaf, err := s.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if leaf.SerialNumber.String() == oldSerial {
		t.Fatal("Rotate kept the serial number")
	}
	echo(old) // the open connection survives
	nc, newSerial := dial()
	defer nc.Close()
	if newSerial != leaf.SerialNumber.String() {
		t.Errorf("new connection got serial %s, want the rotated %s", newSerial, leaf.SerialNumber)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("rotated certificate file: %v %v, want mode 0600", st, err)
	}
	again, err := NewServer(ca, first, file)
	if err != nil {
		t.Fatal(err)
	}
	if again.Current().SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Errorf("a restarted server serves %s, want the rotated %s", again.Current().SerialNumber, leaf.SerialNumber)
	}
	if _, err := (&Server{ca: Bundle{CertPEM: ca.CertPEM}, cur: s.cur, leaf: s.leaf}).Rotate(); err == nil {
		t.Error("Rotate without the CA key succeeded")
	}
}
