package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// modelAttribute is one entry of the controller's model-config document.
type modelAttribute struct {
	Value  any    `json:"Value" yaml:"value"`
	Source string `json:"Source" yaml:"source"`
}

// runModelConfig reads or changes the model's settings, as `juju
// model-config`: no argument prints every key (tabular, json or yaml),
// one key prints its value, `k=v...` and `--reset k1,k2` change them.
func runModelConfig(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("model-config")
	fs.SetArgs("[<key> | <key>=<value>...]")
	format := fs.String("", "format", "tabular", "output format: tabular|json|yaml")
	resets := fs.Strings("", "reset", "keys to reset to their defaults (comma-separated, repeatable)")
	model := fs.String("m", "model", "", "model to configure")
	pairs, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch *format {
	case "tabular", "json", "yaml":
	default:
		return usage(fmt.Errorf("invalid --format %q: use tabular, json or yaml", *format))
	}
	reset := cmdline.SplitCommas(*resets...)
	setting := len(pairs) > 0 && strings.Contains(pairs[0], "=")
	if !setting && len(pairs) > 1 {
		return usage(errors.New("give one key to read, or key=value pairs to set"))
	}
	var values map[string]string
	if setting {
		if values, err = cmdline.ParseKeyValues(pairs); err != nil {
			return usage(err)
		}
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if setting || len(reset) > 0 {
		if len(pairs) > 0 && !setting {
			return usage(errors.New("cannot read a key and reset keys in one command"))
		}
		if _, err := conn.SetModelConfig(ctx, &apipb.SetModelConfigRequest{Model: m, Values: values, Reset_: reset}); err != nil {
			return apiError(err)
		}
		return nil
	}
	res, err := conn.GetModelConfig(ctx, &apipb.GetModelConfigRequest{Model: m})
	if err != nil {
		return apiError(err)
	}
	var doc map[string]modelAttribute
	if err := json.Unmarshal(res.ConfigJson, &doc); err != nil {
		return fmt.Errorf("controller sent an invalid model config: %w", err)
	}
	if len(pairs) == 1 {
		a, ok := doc[pairs[0]]
		if !ok {
			return fmt.Errorf("key %q not found in model %q config; run `troupe model-config` to list the keys", pairs[0], m)
		}
		fmt.Fprintln(env.Stdout, a.Value)
		return nil
	}
	switch *format {
	case "json":
		return json.NewEncoder(env.Stdout).Encode(doc)
	case "yaml":
		return yaml.NewEncoder(env.Stdout).Encode(doc)
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(env.Stdout, 0, 1, 2, ' ', 0)
	fmt.Fprintln(tw, "Attribute\tFrom\tValue")
	for _, k := range keys {
		v := fmt.Sprint(doc[k].Value)
		if v == "" {
			v = `""`
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k, doc[k].Source, v)
	}
	return tw.Flush()
}
