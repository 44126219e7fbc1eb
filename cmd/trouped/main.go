// Command trouped is the Troupe daemon. Personalities:
//
//	trouped controller --data-dir DIR   the controller service
//	trouped machine --data-dir DIR      a machine agent
//	  [--metrics-address HOST:PORT]     its metrics endpoint (default: a free loopback port)
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

	"github.com/troupe-dev/troupe/controller"
	"github.com/troupe-dev/troupe/internal/agentlock"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/engine"
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
	if _, err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dataDir == "" {
		return errors.New("--data-dir is required")
	}
	dir, err := filepath.Abs(*dataDir)
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
