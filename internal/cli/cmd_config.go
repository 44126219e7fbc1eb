package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// runConfig reads or changes an application's charm settings, as
// `juju config`: `config APP` prints every option, `config APP key` one
// value, `config APP k=v... [--reset k1,k2]` changes them.
func runConfig(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("config")
	fs.SetArgs("<application> [<key> | <key>=<value>...]")
	format := fs.String("", "format", "yaml", "output format: yaml|json")
	resets := fs.Strings("", "reset", "options to reset to their defaults (comma-separated, repeatable)")
	model := fs.String("m", "model", "", "model of the application")
	file := fs.String("", "file", "", "a YAML file of settings: {<application>: {<option>: <value>}} or {<option>: <value>}")
	wait := fs.Duration("", "wait", 0, "wait up to this long for the units to settle, showing progress (e.g. --wait 5m)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usage(errors.New("no application specified; usage: troupe config <application> [key[=value]...]"))
	}
	app, pairs := rest[0], rest[1:]
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reset := cmdline.SplitCommas(*resets...)
	if len(reset) > 0 || *file != "" || (len(pairs) > 0 && strings.Contains(pairs[0], "=")) {
		values := map[string]string{}
		if *file != "" {
			if values, err = configFile(*file, app); err != nil {
				return err
			}
		}
		given, err := cmdline.ParseKeyValues(pairs)
		if err != nil {
			return usage(err)
		}
		for k, v := range given { // k=v arguments win over the file
			values[k] = v
		}
		if _, err := conn.SetConfig(ctx, &apipb.SetConfigRequest{Model: m, Application: app, Values: values, Reset_: reset}); err != nil {
			return apiError(err)
		}
		if *wait > 0 {
			return waitSettled(env, conn, m, []string{app}, nil, *wait)
		}
		return nil
	}
	res, err := conn.GetConfig(ctx, &apipb.GetConfigRequest{Model: m, Application: app})
	if err != nil {
		return apiError(err)
	}
	var settings map[string]map[string]any
	if err := json.Unmarshal(res.SettingsJson, &settings); err != nil {
		return fmt.Errorf("controller sent invalid settings: %w", err)
	}
	if len(pairs) == 1 {
		opt, ok := settings[pairs[0]]
		if !ok {
			return fmt.Errorf("key %q not found in %q application config or charm settings", pairs[0], app)
		}
		if v, ok := opt["value"]; ok {
			fmt.Fprintln(env.Stdout, v)
		}
		return nil
	}
	if len(pairs) > 1 {
		return usage(errors.New("give one key to read, or key=value pairs to set"))
	}
	doc := map[string]any{
		"application": res.Application,
		"charm":       res.Charm,
		"settings":    settings,
		"application-config": map[string]any{
			"trust": map[string]any{"default": false, "description": "Does this application have access to trusted credentials",
				"source": trustSource(res.Trust), "type": "bool", "value": res.Trust},
		},
	}
	if *format == "json" {
		return json.NewEncoder(env.Stdout).Encode(doc)
	}
	return yaml.NewEncoder(env.Stdout).Encode(doc)
}

func trustSource(trust bool) string {
	if trust {
		return "user"
	}
	return "default"
}
