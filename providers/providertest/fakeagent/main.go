// Command fakeagent stands in for `trouped machine` in the provider
// conformance suite (providers/providertest). Started as
//
//	fakeagent machine --data-dir DIR
//
// it records what it found in DIR when it started (each regular file's
// mode and SHA-256) and its pid in DIR/fakeagent.json, then sleeps until
// SIGTERM and exits 0. If DIR holds a file named fakeagent-ignore-sigterm
// when it starts, it instead appends a line for each SIGTERM to the file
// named by that file's content (DIR/fakeagent.sigterm if it is empty) and
// keeps running, so only SIGKILL stops it.
//
// Only providertest.BuildAgent builds it; it never dials anything and
// writes nothing outside DIR but the SIGTERM notes a test asked for.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

// The names below are mirrored in providertest; the suite reads them.
const (
	reportFile   = "fakeagent.json"
	ignoreMarker = "fakeagent-ignore-sigterm"
	sigtermFile  = "fakeagent.sigterm"
)

type fileReport struct {
	Mode   string `json:"mode"`
	SHA256 string `json:"sha256"`
}

type report struct {
	Pid   int                   `json:"pid"`
	Files map[string]fileReport `json:"files"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "fakeagent: %v\n", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) == 0 || args[0] != "machine" {
		return fmt.Errorf("usage: fakeagent machine --data-dir DIR (got %q)", args)
	}
	fs := flag.NewFlagSet("machine", flag.ContinueOnError)
	dir := fs.String("data-dir", "", "the instance's agent data dir")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("--data-dir is required")
	}
	// Listen before reporting: once the report exists, SIGTERM is handled.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)

	rep := report{Pid: os.Getpid(), Files: map[string]fileReport{}}
	entries, err := os.ReadDir(*dir)
	if err != nil {
		return fmt.Errorf("cannot list data dir: %w", err)
	}
	ignore, notes := false, filepath.Join(*dir, sigtermFile)
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return fmt.Errorf("cannot stat %s: %w", e.Name(), err)
		}
		data, err := os.ReadFile(filepath.Join(*dir, e.Name()))
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", e.Name(), err)
		}
		if e.Name() == ignoreMarker {
			ignore = true
			if len(data) > 0 {
				notes = string(data)
			}
		}
		sum := sha256.Sum256(data)
		rep.Files[e.Name()] = fileReport{Mode: fmt.Sprintf("%#o", info.Mode().Perm()), SHA256: hex.EncodeToString(sum[:])}
	}
	data, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	// Write then rename, so a reader never sees half a report.
	tmp := filepath.Join(*dir, reportFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("cannot write report: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(*dir, reportFile)); err != nil {
		return fmt.Errorf("cannot write report: %w", err)
	}
	for range sigs {
		if !ignore {
			return nil
		}
		f, err := os.OpenFile(notes, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("cannot note SIGTERM: %w", err)
		}
		fmt.Fprintln(f, "SIGTERM ignored")
		f.Close()
	}
	return nil
}
