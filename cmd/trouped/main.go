// Command trouped is the Troupe daemon. Personalities:
//
//	trouped controller --data-dir DIR   the controller service
//	trouped machine --data-dir DIR      a machine agent
//	  [--metrics-address HOST:PORT]     its metrics endpoint (default: a free loopback port)
//	trouped store-keys --data-dir DIR PREFIX      offline store surgery, with
//	trouped store-put --data-dir DIR KEY VALUE    the controller stopped
//
// The controller's etcd accepts no outside client (see internal/store),
// so repairing a document by hand is done offline: store-keys lists the
// keys under PREFIX, store-put writes VALUE verbatim under KEY, each
// opening the controller's store itself (it refuses while the controller
// runs, which holds the store's lock).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/troupe-dev/troupe/controller"
	"github.com/troupe-dev/troupe/internal/agentlock"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/engine"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/machineagent"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "ERROR %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: trouped controller|machine --data-dir DIR")
	}
	fs := cmdline.NewFlagSet("trouped " + args[0])
	dataDir := fs.String("", "data-dir", "", "the daemon's data directory")
	metricsAddr := fs.String("", "metrics-address", "", "machine agent: where the metrics endpoint listens (default a free loopback port; the bound address is written to metrics.addr in the data dir)")
	rest, err := fs.Parse(args[1:])
	if err != nil {
		return err
	}
	if *dataDir == "" {
		return errors.New("--data-dir is required")
	}
	dir, err := filepath.Abs(*dataDir)
	if err == nil && (args[0] == "store-keys" || args[0] == "store-dump" || args[0] == "store-put") {
		return storeSurgery(args[0], dir, rest)
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	switch args[0] {
	case "controller":
		log = log.With("agent", "controller")
		log.Info("controller starting", "data-dir", dir, "pid", os.Getpid())
		return controller.Run(ctx, dir, log)
	case "machine":
		return runMachine(ctx, dir, *metricsAddr, log)
	}
	return fmt.Errorf("unknown personality %q: use controller or machine", args[0])
}

func runMachine(ctx context.Context, dir, metricsAddr string, log *slog.Logger) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	log = log.With("agent", "machine")
	// One agent per data dir: a second one would run every hook twice.
	release, err := agentlock.Acquire(dir)
	if err != nil {
		return fmt.Errorf("machine agent not started: %w", err)
	}
	defer release()
	log.Info("machine agent starting", "data-dir", dir, "pid", os.Getpid())
	eng, err := engine.New(log)
	if err != nil {
		return err
	}
	reports := &machineagent.Reports{Machine: eng.Report}
	if err := engine.Install(eng, machineagent.Manifolds(machineagent.Config{DataDir: dir,
		HookTool: filepath.Join(filepath.Dir(exe), "hooktool"), Pebble: filepath.Join(filepath.Dir(exe), "pebble"),
		MountHelper: filepath.Join(filepath.Dir(exe), "troupe-mountns"), Logger: log, Reports: reports, MetricsAddress: metricsAddr})); err != nil {
		eng.Kill()
		return err
	}
	// Introspection is best effort: a failure is logged, the agent runs on.
	introDone := make(chan struct{})
	go func() {
		defer close(introDone)
		if err := machineagent.ServeIntrospection(ctx, dir, reports, log); err != nil {
			log.Warn("introspection socket unavailable", "err", err)
		}
	}()
	defer func() { <-introDone }()
	<-ctx.Done()
	eng.Kill()
	err = eng.Wait()
	log.Info("machine agent stopped")
	return err
}

// storeSurgery runs store-keys, store-dump (every key under a prefix
// with its value, a line each) or store-put against the stopped
// controller's store in dir.
func storeSurgery(verb, dir string, args []string) error {
	want := map[string]int{"store-keys": 1, "store-dump": 1, "store-put": 2}[verb]
	if len(args) != want {
		return fmt.Errorf("usage: trouped store-keys|store-dump --data-dir DIR PREFIX | trouped store-put --data-dir DIR KEY VALUE")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, store.Config{Dir: filepath.Join(dir, "store")})
	if err != nil {
		return fmt.Errorf("cannot open the controller's store (stop the controller first): %w", err)
	}
	defer st.Close()
	if verb != "store-put" {
		kvs, _, err := st.List(ctx, args[0])
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if verb == "store-dump" {
				fmt.Printf("%s %s\n", kv.Key, kv.Value)
				continue
			}
			fmt.Println(kv.Key)
		}
		return nil
	}
	_, err = st.Commit(ctx, clientv3.OpPut(args[0], args[1]))
	return err
}
