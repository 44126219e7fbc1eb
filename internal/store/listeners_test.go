package store_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// A local process that is not the controller cannot use etcd's client
// port: not in plain text, not over TLS trusting the listeners' CA, so it
// can neither read the store nor write around the API's authorization.
// The controller itself still works (in-process), also after a restart.
func TestEtcdListenersRefuseOutsiders(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	var ports struct {
		Client int `json:"client"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "ports.json"))
	if err != nil || json.Unmarshal(data, &ports) != nil || ports.Client == 0 {
		t.Fatalf("cannot read the client port from ports.json: %v %s", err, data)
	}
	endpoint := "127.0.0.1:" + strconv.Itoa(ports.Client)
	caPEM, err := os.ReadFile(filepath.Join(dir, "listener-tls", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	for name, cfg := range map[string]clientv3.Config{
		"plain": {Endpoints: []string{"http://" + endpoint}, DialTimeout: 2 * time.Second,
			DialOptions: []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}},
		"tls without a client certificate": {Endpoints: []string{"https://" + endpoint}, DialTimeout: 2 * time.Second,
			TLS: &tls.Config{RootCAs: pool}},
	} {
		c, err := clientv3.New(cfg)
		if err != nil {
			continue // refused at dial: what we want
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err = c.Get(ctx, "/troupe/", clientv3.WithPrefix())
		cancel()
		c.Close()
		if err == nil {
			t.Errorf("%s client read the store through etcd's client port", name)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
}
