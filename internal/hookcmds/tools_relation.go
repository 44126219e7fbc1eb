package hookcmds

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

func relationIDs(c *call) error {
	c.addFormat(formatSmart)
	args, err := c.parse()
	if err != nil {
		return err
	}
	endpoint := ""
	if id := c.ctx.HookInfo().RelationID; id >= 0 {
		if r, err := c.ctx.Relation(id); err == nil {
			endpoint = r.Endpoint
		}
	}
	if len(args) > 0 {
		endpoint = args[0]
		if err := checkEmpty(args[1:]); err != nil {
			return err
		}
	}
	if endpoint == "" {
		return usagef("no endpoint name specified")
	}
	rels, err := c.ctx.Relations()
	if err != nil {
		return err
	}
	sort.Slice(rels, func(i, j int) bool { return rels[i].ID < rels[j].ID })
	ids := []string{}
	for _, r := range rels {
		if r.Endpoint == endpoint {
			ids = append(ids, fmt.Sprintf("%s:%d", r.Endpoint, r.ID))
		}
	}
	return c.write(ids)
}

func relationList(c *call) error {
	var relID int
	var app bool
	c.addFormat(formatSmart)
	c.relationFlag(&relID)
	c.flags.boolVar(&app, "List remote application instead of participating units", "app")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if err := requireRelation(relID); err != nil {
		return err
	}
	if err := checkEmpty(args); err != nil {
		return err
	}
	if app {
		r, err := c.ctx.Relation(relID)
		if err != nil {
			return err
		}
		return c.write(r.RemoteApp)
	}
	members, err := c.ctx.RelationMembers(relID)
	if err != nil {
		return err
	}
	members = append([]string{}, members...)
	sort.Strings(members)
	return c.write(members)
}

func relationGet(c *call) error {
	var relID int
	var app bool
	c.addFormat(formatSmart)
	c.relationFlag(&relID)
	c.flags.boolVar(&app, "Get the relation data for the overall application, not just a unit", "app")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if err := requireRelation(relID); err != nil {
		return err
	}
	key := ""
	if len(args) > 0 {
		key = args[0]
		if key == "-" {
			key = ""
		}
		args = args[1:]
	}
	info := c.ctx.HookInfo()
	target := ""
	if len(args) > 0 {
		target = args[0]
		args = args[1:]
	} else if info.RemoteUnit != "" && info.RelationID == relID && !app {
		target = info.RemoteUnit
	} else if info.RemoteApp != "" && info.RelationID == relID {
		target, app = info.RemoteApp, true
	}
	if err := checkEmpty(args); err != nil {
		return err
	}
	if target == "" {
		return usagef("no unit or application specified")
	}
	if app {
		if isUnitName(target) {
			target = applicationOf(target)
		}
	} else if !isUnitName(target) {
		return usagef("expected unit name, got application name %q", target)
	}
	settings, err := c.ctx.RelationSettings(relID, target, app)
	if err != nil {
		return err
	}
	if key == "" {
		return c.write(stringMap(settings))
	}
	if v, ok := settings[key]; ok {
		return c.write(v)
	}
	return c.write(nil)
}

func relationSet(c *call) error {
	var relID int
	var app bool
	var file, formatFlag string
	c.relationFlag(&relID)
	c.flags.boolVar(&app, "pick whether you are setting \"application\" settings or \"unit\" settings", "app")
	c.flags.stringVar(&file, "file containing key-value pairs", "file")
	c.flags.stringVar(&formatFlag, "deprecated format flag", "format")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if err := requireRelation(relID); err != nil {
		return err
	}
	settings := map[string]string{}
	if file != "" {
		data, err := c.readFile(file)
		if err != nil {
			return err
		}
		if settings, err = parseSettingsFile(data); err != nil {
			return err
		}
	}
	pairs, err := parseKeyValues(args)
	if err != nil {
		return err
	}
	for k, v := range pairs {
		settings[k] = v
	}
	for k, v := range settings {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("cannot set relation setting %q: value is not valid UTF-8", strings.ToValidUTF8(k, "\uFFFD"))
		}
	}
	if len(settings) == 0 {
		return nil
	}
	return c.ctx.UpdateRelationSettings(relID, app, settings)
}

// parseSettingsFile reads a YAML (or JSON) map; scalar values become
// strings and null becomes "" (delete).
func parseSettingsFile(data []byte) (map[string]string, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("cannot parse settings file: %w", err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case nil:
			out[k] = ""
		case string:
			out[k] = v
		case bool, int, int64, uint64, float64:
			out[k] = fmt.Sprint(v)
		default:
			return nil, fmt.Errorf("cannot parse settings file: value of %q is not a string", k)
		}
	}
	return out, nil
}

func relationModelGet(c *call) error {
	var relID int
	c.addFormat(formatSmart)
	c.relationFlag(&relID)
	args, err := c.parse()
	if err != nil {
		return err
	}
	if err := requireRelation(relID); err != nil {
		return err
	}
	if err := checkEmpty(args); err != nil {
		return err
	}
	r, err := c.ctx.Relation(relID)
	if err != nil {
		return err
	}
	uuid := r.RemoteModelUUID
	if uuid == "" {
		uuid = c.ctx.HookInfo().ModelUUID
	}
	return c.write(map[string]any{"uuid": uuid})
}
