package hookcmds

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/troupe-dev/troupe/internal/limits"
)

// Secret content limits (Juju's secrets package).
const (
	maxSecretValueSize = limits.SecretValue
	maxSecretSize      = limits.SecretContent
)

var secretKeyRE = regexp.MustCompile(`^[a-z](?:-?[a-z0-9]){2,}$`)

var rotatePolicies = []string{"never", "hourly", "daily", "weekly", "monthly", "quarterly", "yearly"}

// SecretID returns the bare id of a secret URI ("secret:ID",
// "secret://model/ID" or "ID").
func SecretID(uri string) string {
	s := strings.TrimPrefix(uri, "secret:")
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// normalizeSecretURI turns a bare id into "secret:<id>" and rejects junk.
func normalizeSecretURI(s string) (string, error) {
	id := SecretID(s)
	if id == "" || strings.ContainsAny(id, " \t\n") {
		return "", usagef("secret URI %q not valid", s)
	}
	if !strings.HasPrefix(s, "secret:") {
		return "secret:" + id, nil
	}
	return s, nil
}

// secretMetaFlags are the flags shared by secret-add and secret-set.
type secretMetaFlags struct {
	label, description, expire, rotate, owner, file string
	labelSet, descSet                               bool
}

func (f *secretMetaFlags) define(c *call) {
	c.flags.funcVar(func(s string) error { f.label, f.labelSet = s, true; return nil },
		func() string { return "" }, "a label used to identify the secret in hooks", "label")
	c.flags.funcVar(func(s string) error { f.description, f.descSet = s, true; return nil },
		func() string { return "" }, "the secret description", "description")
	c.flags.stringVar(&f.expire, "either a duration or time when the secret should expire", "expire")
	c.flags.stringVar(&f.rotate, "the secret rotation policy", "rotate")
	c.flags.stringVar(&f.owner, "the owner of the secret, either the application or unit", "owner")
	c.flags.stringVar(&f.file, "a YAML file containing secret key values", "file")
}

// args validates the flags and content into SecretArgs.
func (f *secretMetaFlags) args(c *call, content []string) (SecretArgs, error) {
	var a SecretArgs
	if f.labelSet {
		a.Label = &f.label
	}
	if f.descSet {
		a.Description = &f.description
	}
	if f.expire != "" {
		t, err := parseExpire(f.expire, c.inv.Now())
		if err != nil {
			return a, &usageError{msg: err.Error()}
		}
		t = t.UTC()
		a.Expire = &t
	}
	if f.rotate != "" {
		ok := false
		for _, p := range rotatePolicies {
			ok = ok || p == f.rotate
		}
		if !ok {
			return a, usagef("rotate policy %q not valid", f.rotate)
		}
		a.RotatePolicy = &f.rotate
	}
	switch f.owner {
	case "", "application", "unit":
		a.Owner = f.owner
	default:
		return a, usagef("secret owner %q not valid", f.owner)
	}
	values := map[string]string{}
	if f.file != "" {
		data, err := c.readFile(f.file)
		if err != nil {
			return a, err
		}
		var raw map[string]any
		if err := yaml.Unmarshal(data, &raw); err != nil {
			return a, fmt.Errorf("cannot parse secret file: %w", err)
		}
		keys := make([]string, 0, len(raw))
		for k := range raw {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := addSecretValue(c, values, k, fmt.Sprint(raw[k])); err != nil {
				return a, err
			}
		}
	}
	for _, arg := range content {
		k, v, ok := strings.Cut(arg, "=")
		if !ok {
			return a, usagef("expected \"key=value\", got %q", arg)
		}
		if err := addSecretValue(c, values, k, v); err != nil {
			return a, err
		}
	}
	if len(values) > 0 {
		total := 0
		for k, v := range values {
			n := base64.StdEncoding.EncodedLen(len(v))
			if n > maxSecretValueSize {
				return a, usagef("secret content for key %q too large: %d bytes", k, n)
			}
			total += n
		}
		if total > maxSecretSize {
			return a, usagef("secret content too large: %d bytes", total)
		}
		a.Content = values
	}
	return a, nil
}

// addSecretValue handles key=value, key#base64=value and key#file=path.
func addSecretValue(c *call, values map[string]string, key, value string) error {
	key, suffix, _ := strings.Cut(key, "#")
	if !secretKeyRE.MatchString(key) {
		return usagef("key %q not valid", key)
	}
	switch suffix {
	case "":
		values[key] = value
	case "base64":
		data, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return usagef("value for key %q is not valid base64", key)
		}
		values[key] = string(data)
	case "file":
		data, err := c.readFile(value)
		if err != nil {
			return fmt.Errorf("cannot read secret content for key %q: %w", key, err)
		}
		values[key] = string(data)
	default:
		return usagef("key %q not valid", key+"#"+suffix)
	}
	return nil
}

func secretAdd(c *call) error {
	var f secretMetaFlags
	f.define(c)
	content, err := c.parse()
	if err != nil {
		return err
	}
	a, err := f.args(c, content)
	if err != nil {
		return err
	}
	if a.Content == nil {
		return usagef("missing secret value or filename")
	}
	if a.Owner == "" {
		a.Owner = "application"
	}
	uri, err := c.ctx.CreateSecret(a)
	if err != nil {
		return fmt.Errorf("cannot create secret: %w", err)
	}
	c.stdout.WriteString(uri + "\n")
	return nil
}

// secretNotFound renders ErrSecretNotFound the way ops expects.
func secretNotFound(err error, uri, label string) error {
	if !errors.Is(err, ErrSecretNotFound) {
		return err
	}
	if uri == "" {
		return fmt.Errorf("secret with label %q not found", label)
	}
	return fmt.Errorf("secret %q not found", SecretID(uri))
}

func secretSet(c *call) error {
	var f secretMetaFlags
	f.define(c)
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("missing secret URI")
	}
	uri, err := normalizeSecretURI(args[0])
	if err != nil {
		return err
	}
	a, err := f.args(c, args[1:])
	if err != nil {
		return err
	}
	if a.Content == nil && a.Label == nil && a.Description == nil && a.Expire == nil && a.RotatePolicy == nil && a.Owner == "" {
		return usagef("at least one attribute to update must be specified")
	}
	return secretNotFound(c.ctx.UpdateSecret(uri, a), uri, "")
}

func secretGet(c *call) error {
	var label string
	var peek, refresh bool
	c.addFormat(formatYAML)
	c.flags.stringVar(&label, "a label used to identify the secret", "label")
	c.flags.boolVar(&peek, "get the latest revision just this time", "peek")
	c.flags.boolVar(&refresh, "get the latest revision and also get this same revision for subsequent calls", "refresh")
	args, err := c.parse()
	if err != nil {
		return err
	}
	uri := ""
	if len(args) > 0 {
		if uri, err = normalizeSecretURI(args[0]); err != nil {
			return err
		}
		args = args[1:]
	}
	key := ""
	if len(args) > 0 {
		key = args[0]
		if err := checkEmpty(args[1:]); err != nil {
			return err
		}
	}
	if uri == "" && label == "" {
		return usagef("require either a secret URI or label")
	}
	if peek && refresh {
		return usagef("specify one of --peek or --refresh but not both")
	}
	content, err := c.ctx.SecretContent(uri, label, refresh, peek)
	if err != nil {
		return secretNotFound(err, uri, label)
	}
	out := map[string]any{}
	for k, v := range content {
		if utf8.ValidString(v) {
			out[k] = v
		} else {
			out[k+"#base64"] = base64.StdEncoding.EncodeToString([]byte(v))
		}
	}
	if key == "" {
		return c.write(out)
	}
	if v, ok := out[key]; ok {
		return c.write(v)
	}
	if v, ok := out[key+"#base64"]; ok {
		return c.write(v)
	}
	return fmt.Errorf("secret key %q not found", key)
}

func secretInfo(md SecretMetadata) map[string]any {
	m := map[string]any{"revision": md.Revision, "owner": md.Owner}
	if md.Label != "" {
		m["label"] = md.Label
	}
	if md.Description != "" {
		m["description"] = md.Description
	}
	if md.RotatePolicy != "" {
		m["rotation"] = md.RotatePolicy
	}
	if md.Expiry != nil {
		m["expiry"] = md.Expiry.UTC().Format(time.RFC3339)
	}
	if md.NextRotate != nil {
		m["rotates"] = md.NextRotate.UTC().Format(time.RFC3339)
	}
	if len(md.Access) > 0 {
		var access []any
		for _, a := range md.Access {
			access = append(access, map[string]any{"target": a.Target, "scope": a.Scope, "role": a.Role})
		}
		m["access"] = access
	}
	return m
}

func secretInfoGet(c *call) error {
	var label string
	c.addFormat(formatYAML)
	c.flags.stringVar(&label, "a label used to identify the secret", "label")
	args, err := c.parse()
	if err != nil {
		return err
	}
	uri := ""
	if len(args) > 0 {
		if uri, err = normalizeSecretURI(args[0]); err != nil {
			return err
		}
		if err := checkEmpty(args[1:]); err != nil {
			return err
		}
	}
	if uri == "" && label == "" {
		return usagef("require either a secret URI or label")
	}
	if uri != "" && label != "" {
		return usagef("specify either a secret URI or label but not both")
	}
	all, err := c.ctx.SecretMetadata()
	if err != nil {
		return err
	}
	for u, md := range all {
		if (uri != "" && SecretID(u) == SecretID(uri)) || (label != "" && md.Label == label) {
			return c.write(map[string]any{SecretID(u): secretInfo(md)})
		}
	}
	return secretNotFound(ErrSecretNotFound, uri, label)
}

func secretIDs(c *call) error {
	c.addFormat(formatSmart)
	args, err := c.parse()
	if err != nil {
		return err
	}
	if err := checkEmpty(args); err != nil {
		return err
	}
	all, err := c.ctx.SecretMetadata()
	if err != nil {
		return err
	}
	ids := []string{}
	for u := range all {
		ids = append(ids, u)
	}
	sort.Strings(ids)
	return c.write(ids)
}

func secretGrant(c *call) error {
	relID := -1
	var unit string
	c.flags.funcVar(func(s string) error {
		n, err := parseRelationID(s)
		if err != nil {
			return err
		}
		if _, err := c.ctx.Relation(n); err != nil {
			return err
		}
		relID = n
		return nil
	}, func() string { return "" }, "the relation with which to associate the grant", "r", "relation")
	c.flags.stringVar(&unit, "the unit to grant access", "unit")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("missing secret URI")
	}
	uri, err := normalizeSecretURI(args[0])
	if err != nil {
		return err
	}
	if err := checkEmpty(args[1:]); err != nil {
		return err
	}
	if relID < 0 {
		return usagef("missing relation")
	}
	if unit != "" && !isUnitName(unit) {
		return usagef("unit %q not valid", unit)
	}
	return secretNotFound(c.ctx.GrantSecret(uri, SecretGrant{RelationID: relID, Unit: unit}), uri, "")
}

func secretRevoke(c *call) error {
	relID := -1
	var app, unit string
	c.flags.funcVar(func(s string) error {
		n, err := parseRelationID(s)
		if err != nil {
			return err
		}
		if _, err := c.ctx.Relation(n); err != nil {
			return err
		}
		relID = n
		return nil
	}, func() string { return "" }, "the relation for which to revoke the grant", "r", "relation")
	c.flags.stringVar(&app, "the application to revoke access", "app", "application")
	c.flags.stringVar(&unit, "the unit to revoke access", "unit")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("missing secret URI")
	}
	uri, err := normalizeSecretURI(args[0])
	if err != nil {
		return err
	}
	if err := checkEmpty(args[1:]); err != nil {
		return err
	}
	if relID < 0 && app == "" && unit == "" {
		return usagef("missing relation or application or unit")
	}
	if unit != "" && !isUnitName(unit) {
		return usagef("unit %q not valid", unit)
	}
	return secretNotFound(c.ctx.RevokeSecret(uri, SecretGrant{RelationID: relID, Application: app, Unit: unit}), uri, "")
}

func secretRemove(c *call) error {
	revision := 0
	c.flags.funcVar(func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return errors.New("revision must be a positive integer")
		}
		revision = n
		return nil
	}, func() string { return "0" }, "remove the specified revision", "revision")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("missing secret URI")
	}
	uri, err := normalizeSecretURI(args[0])
	if err != nil {
		return err
	}
	if err := checkEmpty(args[1:]); err != nil {
		return err
	}
	return secretNotFound(c.ctx.RemoveSecret(uri, revision), uri, "")
}
