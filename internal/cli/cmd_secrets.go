package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// User secrets (owned by the model), as `juju add-secret`, `update-secret`,
// `grant-secret`, `revoke-secret`, `remove-secret`, `secrets` and
// `show-secret` (cli contract §4.4, §5.6).

// secretContent reads key=value, key#base64=value and key#file=path
// arguments and a --file YAML mapping into one content map.
func secretContent(args []string, file string) (map[string]string, error) {
	content := map[string]string{}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("cannot read secret file: %w", err)
		}
		var raw map[string]any
		if err := yaml.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("cannot parse secret file %s: %w; it must be a YAML mapping of keys to values", file, err)
		}
		for k, v := range raw {
			content[k] = fmt.Sprint(v)
		}
	}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("expected key=value, got %q", a)
		}
		key, suffix, _ := strings.Cut(k, "#")
		switch suffix {
		case "":
			content[key] = v
		case "base64":
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, fmt.Errorf("value of %q is not valid base64", key)
			}
			content[key] = string(b)
		case "file":
			b, err := os.ReadFile(v)
			if err != nil {
				return nil, fmt.Errorf("cannot read value of %q: %w", key, err)
			}
			content[key] = string(b)
		default:
			return nil, fmt.Errorf("key %q not valid: use key, key#base64 or key#file", k)
		}
	}
	return content, nil
}

func apiErrorOrNil(err error) error {
	if err == nil {
		return nil
	}
	return apiError(err)
}

func apiCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func runAddSecret(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("add-secret")
	fs.SetArgs("<name> [key=value...]")
	info := fs.String("", "info", "", "the secret description")
	file := fs.String("", "file", "", "a YAML file of keys and values")
	model := fs.String("m", "model", "", "model of the secret")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usage(errors.New("no secret name specified; usage: troupe add-secret <name> key=value... [--file F.yaml] [--info TEXT]"))
	}
	content, err := secretContent(rest[1:], *file)
	if err != nil {
		return usage(err)
	}
	if len(content) == 0 {
		return usage(errors.New("missing secret value or filename; give key=value arguments or --file"))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := apiCtx()
	defer cancel()
	res, err := conn.AddSecret(ctx, &apipb.AddSecretRequest{Model: m, Name: rest[0], Description: *info, Content: content})
	if err != nil {
		return apiError(err)
	}
	fmt.Fprintln(env.Stdout, res.Uri)
	return nil
}

func runUpdateSecret(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("update-secret")
	fs.SetArgs("<name|id> [key=value...]")
	info := fs.String("", "info", "", "the new secret description")
	name := fs.String("", "name", "", "a new name")
	file := fs.String("", "file", "", "a YAML file of keys and values")
	autoPrune := fs.Bool("", "auto-prune", false, "remove revisions no longer tracked")
	model := fs.String("m", "model", "", "model of the secret")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usage(errors.New("no secret specified; usage: troupe update-secret <name|id> key=value... [--info TEXT] [--name NEW]"))
	}
	content, err := secretContent(rest[1:], *file)
	if err != nil {
		return usage(err)
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := apiCtx()
	defer cancel()
	_, err = conn.UpdateSecret(ctx, &apipb.UpdateSecretRequest{Model: m, Id: rest[0], HasDescription: fs.IsSet("info"),
		Description: *info, NewName: *name, Content: content, AutoPrune: *autoPrune})
	return apiErrorOrNil(err)
}

func grantOrRevoke(revoke bool) func(env *Env, args []string) error {
	verb := "grant-secret"
	if revoke {
		verb = "revoke-secret"
	}
	return func(env *Env, args []string) error {
		fs := cmdline.NewFlagSet(verb)
		fs.SetArgs("<name|id> <application>[,<application>...]")
		model := fs.String("m", "model", "", "model of the secret")
		rest, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(rest) != 2 {
			return usage(fmt.Errorf("usage: troupe %s <name|id> <application>[,<application>...]", verb))
		}
		conn, m, err := connectModel(env, *model)
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := apiCtx()
		defer cancel()
		_, err = conn.GrantSecret(ctx, &apipb.GrantSecretRequest{Model: m, Id: rest[0], Applications: cmdline.SplitCommas(rest[1]), Revoke: revoke})
		return apiErrorOrNil(err)
	}
}

func runRemoveSecret(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("remove-secret")
	fs.SetArgs("<name|id>")
	revision := fs.Int("", "revision", 0, "remove only this revision")
	model := fs.String("m", "model", "", "model of the secret")
	fs.Bool("", "no-prompt", false, "accepted for compatibility; troupe never prompts")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("usage: troupe remove-secret <name|id> [--revision N]"))
	}
	if *revision < 0 {
		return usage(errors.New("--revision must be a positive number"))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := apiCtx()
	defer cancel()
	_, err = conn.RemoveSecret(ctx, &apipb.RemoveSecretRequest{Model: m, Id: rest[0], Revision: int32(*revision)})
	return apiErrorOrNil(err)
}

// secretDoc is one secret in the shape of `juju secrets/show-secret
// --format json` (§5.6): optional keys absent when empty, content only
// when revealed, under a capital "Data".
func secretDoc(s *apipb.SecretInfo) map[string]any {
	d := map[string]any{"revision": int(s.Revision), "owner": s.Owner, "created": s.Created, "updated": s.Updated}
	for k, v := range map[string]string{"name": s.Name, "description": s.Description, "label": s.Label,
		"rotation": s.Rotation, "expires": s.Expires} {
		if v != "" {
			d[k] = v
		}
	}
	if len(s.Access) > 0 {
		var access []map[string]any
		for _, a := range s.Access {
			access = append(access, map[string]any{"target": a.Target, "scope": a.Scope, "role": a.Role})
		}
		d["access"] = access
	}
	if len(s.Revisions) > 0 {
		var revs []map[string]any
		for _, r := range s.Revisions {
			rd := map[string]any{"revision": int(r.Revision), "created": r.Created, "updated": r.Updated}
			if r.Expires != "" {
				rd["expires"] = r.Expires
			}
			revs = append(revs, rd)
		}
		d["revisions"] = revs
	}
	if s.HasContent {
		data := map[string]string{}
		for k, v := range s.Content {
			data[k] = v
		}
		d["content"] = map[string]any{"Data": data}
	}
	return d
}

func writeSecrets(env *Env, format string, secrets []*apipb.SecretInfo) error {
	doc := map[string]any{}
	for _, s := range secrets {
		doc[s.Id] = secretDoc(s)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(doc)
	case "yaml":
		return yaml.NewEncoder(env.Stdout).Encode(doc)
	}
	sort.Slice(secrets, func(i, j int) bool { return secrets[i].Id < secrets[j].Id })
	w := tabwriter.NewWriter(env.Stdout, 0, 1, 1, ' ', 0)
	fmt.Fprintln(w, "ID\tName\tOwner\tRotation\tRevision\tLast updated")
	for _, s := range secrets {
		name, rot := s.Name, s.Rotation
		if name == "" {
			name = "-"
		}
		if rot == "" {
			rot = "never"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", s.Id, name, s.Owner, rot, s.Revision, s.Updated)
	}
	return w.Flush()
}

func runSecrets(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("secrets")
	format := fs.String("", "format", "tabular", "output format: tabular|json|yaml")
	owner := fs.String("", "owner", "", "only secrets of this owner (an application, or <model>)")
	model := fs.String("m", "model", "", "model of the secrets")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usage(fmt.Errorf("unexpected argument %q", rest[0]))
	}
	if err := checkSecretFormat(*format); err != nil {
		return err
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := apiCtx()
	defer cancel()
	res, err := conn.ListSecrets(ctx, &apipb.ListSecretsRequest{Model: m, Owner: *owner})
	if err != nil {
		return apiError(err)
	}
	return writeSecrets(env, *format, res.Secrets)
}

func checkSecretFormat(f string) error {
	switch f {
	case "json", "yaml", "tabular":
		return nil
	}
	return usage(fmt.Errorf("invalid --format %q: use tabular, json or yaml", f))
}

func runShowSecret(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("show-secret")
	fs.SetArgs("<name|id>")
	format := fs.String("", "format", "yaml", "output format: yaml|json")
	reveal := fs.Bool("", "reveal", false, "include the content")
	revisions := fs.Bool("", "revisions", false, "include the revisions")
	revision := fs.Int("", "revision", 0, "the revision whose content --reveal shows (default the latest)")
	model := fs.String("m", "model", "", "model of the secret")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("usage: troupe show-secret <name|id> [--reveal] [--revisions] [--revision N] [--format json]"))
	}
	if err := checkSecretFormat(*format); err != nil {
		return err
	}
	if *format == "tabular" {
		*format = "yaml"
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := apiCtx()
	defer cancel()
	res, err := conn.ListSecrets(ctx, &apipb.ListSecretsRequest{Model: m, Id: rest[0], Reveal: *reveal,
		Revision: int32(*revision), Revisions: *revisions})
	if err != nil {
		return apiError(err)
	}
	return writeSecrets(env, *format, res.Secrets)
}
