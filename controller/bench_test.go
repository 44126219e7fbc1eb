package controller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/controller"
	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/pki"
	"github.com/troupe-dev/troupe/internal/store"
)

const (
	benchClients = 200
	benchApps    = 20
	benchCalls   = 10 // per client
)

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// startController runs a real controller (store, actors, API server over
// TLS) in-process and returns an admin connection's info.
func startController(b testing.TB) api.Info {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "controller")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	ca, err := pki.NewCA("bench")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := pki.IssueServer(ca, []string{"127.0.0.1", "localhost", pki.ServerName})
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	pw := entity.NewPassword()
	bs := controller.Bootstrap{UUID: entity.NewUUID(), Name: "bench", APIPort: port, AdminPasswordHash: entity.HashPassword(pw),
		CACert: string(ca.CertPEM), ServerCert: string(srv.CertPEM), ServerKey: string(srv.KeyPEM)}
	data, _ := json.Marshal(bs)
	if err := os.WriteFile(filepath.Join(dir, controller.BootstrapFile), data, 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- controller.Run(ctx, dir, slog.New(slog.DiscardHandler)) }()
	b.Cleanup(func() { cancel(); <-done })
	info := api.Info{Addresses: []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}, CACert: string(ca.CertPEM), Tag: "user-admin", Password: pw}
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := api.Dial(info)
		if err == nil {
			c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err = conn.ControllerInfo(c, &apipb.ControllerInfoRequest{})
			cancel()
			conn.Close()
			if err == nil {
				return info
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("controller not answering: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkMutatingAPICallP99 (issue 3 benchmark 3, issue 9 scenario 4):
// 200 concurrent clients, each on its own TLS connection, set an
// application's config (a fenced write through the application's actor)
// 10 times; spread over 20 applications. The floor, measured in the same
// run: the same number of concurrent fenced commits straight to an etcd
// store of its own. Reports p50 and p99 of both and the p99 ratio.
func BenchmarkMutatingAPICallP99(b *testing.B) {
	info := startController(b)
	admin, err := api.Dial(info)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	if _, err := admin.AddModel(ctx, &apipb.AddModelRequest{Name: "default"}); err != nil {
		b.Fatal(err)
	}
	var archive bytes.Buffer
	if err := charm.Pack(filepath.Join("..", "testcharms", "hello"), &archive); err != nil {
		b.Fatal(err)
	}
	for a := 0; a < benchApps; a++ {
		if _, err := admin.Deploy(ctx, &apipb.DeployRequest{Model: "default", Application: fmt.Sprintf("app%d", a), CharmArchive: archive.Bytes()}); err != nil {
			b.Fatal(err)
		}
	}
	floorStore, err := store.Open(ctx, store.Config{Dir: b.TempDir(), Fast: true})
	if err != nil {
		b.Fatal(err)
	}
	defer floorStore.Close()

	conns := make([]*api.Conn, benchClients)
	for i := range conns {
		if conns[i], err = api.Dial(info); err != nil {
			b.Fatal(err)
		}
		defer conns[i].Close()
		// Connect and log in before the clock starts (the dial is lazy):
		// the scenario is a mutating call's latency, not TLS handshakes
		// and first logins.
		c, cancel := context.WithTimeout(ctx, time.Minute)
		_, err := conns[i].ControllerInfo(c, &apipb.ControllerInfoRequest{})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	run := func(call func(client, n int) error) []time.Duration {
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		errs := make(chan error, benchClients)
		for c := 0; c < benchClients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < benchCalls; n++ {
					start := time.Now()
					if err := call(c, n); err != nil {
						errs <- err
						return
					}
					d := time.Since(start)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		return lat
	}
	var apiLat, floorLat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		apiLat = append(apiLat, run(func(c, n int) error {
			_, err := conns[c].SetConfig(ctx, &apipb.SetConfigRequest{Model: "default", Application: fmt.Sprintf("app%d", c%benchApps),
				Values: map[string]string{"greeting": fmt.Sprintf("g-%d-%d-%d", i, c, n)}})
			return err
		})...)
		floorLat = append(floorLat, run(func(c, n int) error {
			op, err := store.Put(entity.ApplicationKey("m", fmt.Sprintf("app%d", c%benchApps)), map[string]string{"greeting": fmt.Sprint(i, c, n)})
			if err != nil {
				return err
			}
			_, err = floorStore.Commit(ctx, op)
			return err
		})...)
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(apiLat, 0.5).Microseconds())/1000, "api-p50-ms")
	b.ReportMetric(float64(percentile(apiLat, 0.99).Microseconds())/1000, "api-p99-ms")
	b.ReportMetric(float64(percentile(floorLat, 0.5).Microseconds())/1000, "etcd-p50-ms")
	b.ReportMetric(float64(percentile(floorLat, 0.99).Microseconds())/1000, "etcd-p99-ms")
	b.ReportMetric(float64(percentile(apiLat, 0.99))/float64(percentile(floorLat, 0.99)), "p99-ratio")
}
