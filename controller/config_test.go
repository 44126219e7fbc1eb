package controller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/charm"
)

// TestConcurrentConfigChangesAllLand: clients changing different options
// of one application at the same time each see their change kept. The
// merge is decided by the application's actor against its own state; a
// handler that read the settings, merged and wrote them back would lose
// all but a few of the concurrent changes.
func TestConcurrentConfigChangesAllLand(t *testing.T) {
	const options = 24
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("options:\n")
	for i := range options {
		fmt.Fprintf(&cfg, "  opt%d:\n    type: string\n    default: unset\n    description: option %d\n", i, i)
	}
	cfg.WriteString("  count:\n    type: int\n    default: 1\n    description: a typed option\n")
	files := map[string]string{
		"metadata.yaml": "name: many\nsummary: many options\ndescription: many options\n",
		"config.yaml":   cfg.String(),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var archive bytes.Buffer
	if err := charm.Pack(dir, &archive); err != nil {
		t.Fatal(err)
	}

	info := startController(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := api.Dial(info)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.AddModel(ctx, &apipb.AddModelRequest{Name: "default"}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Deploy(ctx, &apipb.DeployRequest{Model: "default", Application: "many", CharmArchive: archive.Bytes()}); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, options)
	for i := range options {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := api.Dial(info)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			_, err = conn.SetConfig(ctx, &apipb.SetConfigRequest{Model: "default", Application: "many",
				Values: map[string]string{fmt.Sprintf("opt%d", i): fmt.Sprintf("value-%d", i)}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("SetConfig: %v", err)
		}
	}
	settings := getConfig(ctx, t, admin)
	for i := range options {
		name := fmt.Sprintf("opt%d", i)
		if got := settings[name]; got.Value != fmt.Sprintf("value-%d", i) || got.Source != "user" {
			t.Errorf("%s after %d concurrent changes: got %+v, want value-%d from user", name, options, got, i)
		}
	}

	// Bad input is refused with InvalidArgument and changes nothing; a
	// reset drops the user value; an unknown application is NotFound.
	for _, c := range []struct {
		req  *apipb.SetConfigRequest
		code codes.Code
		want string
	}{
		{&apipb.SetConfigRequest{Application: "many", Values: map[string]string{"count": "many", "opt0": "lost"}}, codes.InvalidArgument, `cannot set config of "many"`},
		{&apipb.SetConfigRequest{Application: "many", Values: map[string]string{"nosuch": "x"}}, codes.InvalidArgument, "nosuch"},
		{&apipb.SetConfigRequest{Application: "many", Reset_: []string{"nosuch"}}, codes.InvalidArgument, `cannot reset "nosuch"`},
		{&apipb.SetConfigRequest{Application: "ghost", Values: map[string]string{"opt0": "x"}}, codes.NotFound, `application "ghost" not found in model "default"`},
		{&apipb.SetConfigRequest{Model: "nosuch", Application: "many", Values: map[string]string{"opt0": "x"}}, codes.NotFound, `model "nosuch" not found`},
	} {
		_, err := admin.SetConfig(ctx, c.req)
		if status.Code(err) != c.code || !strings.Contains(status.Convert(err).Message(), c.want) {
			t.Errorf("SetConfig %v: got %v, want %s containing %q", c.req, err, c.code, c.want)
		}
	}
	if _, err := admin.SetConfig(ctx, &apipb.SetConfigRequest{Application: "many", Reset_: []string{"opt1"}, Values: map[string]string{"count": "7"}}); err != nil {
		t.Fatal(err)
	}
	settings = getConfig(ctx, t, admin)
	if got := settings["opt0"]; got.Value != "value-0" {
		t.Errorf("opt0 after a refused change: got %+v, want value-0 kept", got)
	}
	if got := settings["opt1"]; got.Value != "unset" || got.Source != "default" {
		t.Errorf("opt1 after reset: got %+v, want the default", got)
	}
	if got := settings["count"]; got.Value != float64(7) || got.Source != "user" {
		t.Errorf("count: got %+v, want 7 from user", got)
	}
}

type configEntry struct {
	Value  any    `json:"value"`
	Source string `json:"source"`
}

func getConfig(ctx context.Context, t *testing.T, conn *api.Conn) map[string]configEntry {
	t.Helper()
	res, err := conn.GetConfig(ctx, &apipb.GetConfigRequest{Model: "default", Application: "many"})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]configEntry
	if err := json.Unmarshal(res.SettingsJson, &out); err != nil {
		t.Fatalf("settings JSON %s: %v", res.SettingsJson, err)
	}
	return out
}
