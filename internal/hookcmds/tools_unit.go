package hookcmds

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/limits"
)

var logLevels = []string{"TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}

func jujuLog(c *call) error {
	level, debug, formatFlag := "INFO", false, ""
	c.flags.stringVar(&level, "Send log message at the given level", "l", "log-level")
	c.flags.boolVar(&debug, "log at debug level", "debug")
	c.flags.stringVar(&formatFlag, "deprecated and ignored", "format")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no message specified")
	}
	if formatFlag != "" {
		if err := c.ctx.LogMessage("WARNING", `--format flag deprecated for command "juju-log"`); err != nil {
			return err
		}
	}
	if debug {
		level = "DEBUG"
	}
	level = strings.ToUpper(level)
	valid := false
	for _, l := range logLevels {
		valid = valid || l == level
	}
	if !valid {
		if err := c.ctx.LogMessage("WARNING", fmt.Sprintf("Specified log level of %q is not valid", level)); err != nil {
			return err
		}
		level = "INFO"
	}
	msg := strings.Join(args, " ")
	if err := limits.Check("log message", len(msg), limits.LogLine); err != nil {
		return err
	}
	if id := c.ctx.HookInfo().RelationID; id >= 0 {
		if r, err := c.ctx.Relation(id); err == nil {
			msg = fmt.Sprintf("%s:%d: %s", r.Endpoint, r.ID, msg)
		}
	}
	return c.ctx.LogMessage(level, msg)
}

var settableStatuses = []string{"maintenance", "blocked", "waiting", "active"}

func statusSet(c *call) error {
	var app bool
	c.flags.boolVar(&app, "set this status for the application to which the unit belongs if the unit is the leader", "application")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) < 1 {
		return usagef("invalid args, require <status> [message]")
	}
	st := StatusInfo{Status: args[0]}
	valid := false
	for _, s := range settableStatuses {
		valid = valid || s == st.Status
	}
	if !valid {
		return usagef("invalid status %q, expected one of [%s]", st.Status, strings.Join(settableStatuses, " "))
	}
	if len(args) > 1 {
		st.Message = args[1]
	}
	if err := checkEmpty(args[min(len(args), 2):]); err != nil {
		return err
	}
	if err := limits.Check("status message", len(st.Message), limits.StatusMessage); err != nil {
		return err
	}
	if app {
		return c.ctx.SetApplicationStatus(st)
	}
	return c.ctx.SetUnitStatus(st)
}

func statusDetails(s StatusInfo, withData bool) map[string]any {
	d := map[string]any{"status": s.Status}
	if withData {
		data := s.Data
		if data == nil {
			data = map[string]any{}
		}
		d["message"] = s.Message
		d["status-data"] = data
	}
	return d
}

func statusGet(c *call) error {
	var app, withData bool
	c.addFormat(formatSmart)
	c.flags.boolVar(&app, "print status for all units of this application if this unit is the leader", "application")
	c.flags.boolVar(&withData, "print all status data", "include-data")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if err := checkEmpty(args); err != nil {
		return err
	}
	if !app {
		st, err := c.ctx.UnitStatus()
		if err != nil {
			return fmt.Errorf("cannot get unit status: %w", err)
		}
		if !withData {
			return c.write(st.Status)
		}
		return c.write(statusDetails(st, true))
	}
	st, err := c.ctx.ApplicationStatus()
	if err != nil {
		return fmt.Errorf("cannot get application status: %w", err)
	}
	details := statusDetails(st.Application, withData)
	units := map[string]any{}
	for name, u := range st.Units {
		units[name] = statusDetails(u, withData)
	}
	details["units"] = units
	return c.write(map[string]any{"application-status": details})
}

func applicationVersionSet(c *call) error {
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no version specified")
	}
	if err := checkEmpty(args[1:]); err != nil {
		return err
	}
	return c.ctx.SetApplicationVersion(args[0])
}

func configGet(c *call) error {
	var all bool
	c.addFormat(formatSmart)
	c.flags.boolVar(&all, "print all keys", "a", "all")
	args, err := c.parse()
	if err != nil {
		return err
	}
	key := ""
	if len(args) > 0 {
		key = args[0]
		if err := checkEmpty(args[1:]); err != nil {
			return err
		}
		if all {
			return usagef("cannot use argument --all together with key %q", key)
		}
	}
	settings, err := c.ctx.ConfigSettings()
	if err != nil {
		return fmt.Errorf("cannot read config: %w", err)
	}
	if key != "" {
		return c.write(settings[key])
	}
	out := map[string]any{}
	for k, v := range settings {
		if v != nil || all {
			out[k] = v
		}
	}
	return c.write(out)
}

func leaderGet(c *call) error {
	c.addFormat(formatSmart)
	args, err := c.parse()
	if err != nil {
		return err
	}
	key := "-"
	if len(args) > 0 {
		key = args[0]
		if err := checkEmpty(args[1:]); err != nil {
			return err
		}
	}
	settings, err := c.ctx.LeaderSettings()
	if err != nil {
		return fmt.Errorf("cannot read leadership settings: %w", err)
	}
	if key == "-" {
		return c.write(stringMap(settings))
	}
	if v, ok := settings[key]; ok {
		return c.write(v)
	}
	return c.write(nil)
}

func leaderSet(c *call) error {
	args, err := c.parse()
	if err != nil {
		return err
	}
	settings, err := parseKeyValues(args)
	if err != nil {
		return err
	}
	if err := c.ctx.WriteLeaderSettings(settings); err != nil {
		return fmt.Errorf("cannot write leadership settings: %w", err)
	}
	return nil
}

func isLeader(c *call) error {
	c.addFormat(formatSmart)
	args, err := c.parse()
	if err != nil {
		return err
	}
	if err := checkEmpty(args); err != nil {
		return err
	}
	leader, err := c.ctx.IsLeader()
	if err != nil {
		return fmt.Errorf("leadership status unknown: %w", err)
	}
	return c.write(leader)
}

func unitGet(c *call) error {
	c.addFormat(formatSmart)
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no setting specified")
	}
	if args[0] != "private-address" && args[0] != "public-address" {
		return usagef("unknown setting %q", args[0])
	}
	if err := checkEmpty(args[1:]); err != nil {
		return err
	}
	addr, err := c.ctx.UnitAddress(args[0] == "public-address")
	if err != nil {
		return err
	}
	return c.write(addr)
}

func networkGet(c *call) error {
	var relID int
	var bindAddr, ingress, egress, primary bool
	c.addFormat(formatSmart)
	c.relationFlag(&relID)
	c.flags.boolVar(&bindAddr, "get the address for the binding on which the unit should listen", "bind-address")
	c.flags.boolVar(&ingress, "get the ingress address for the binding", "ingress-address")
	c.flags.boolVar(&egress, "get the egress subnets for the binding", "egress-subnets")
	c.flags.boolVar(&primary, "(deprecated) get the primary address for the binding", "primary-address")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no arguments specified")
	}
	binding := args[0]
	if err := checkEmpty(args[1:]); err != nil {
		return err
	}
	info, err := c.ctx.NetworkInfo(binding, relID)
	if errors.Is(err, ErrBindingNotFound) {
		return fmt.Errorf("no network config found for binding %q", binding)
	}
	if err != nil {
		return err
	}
	firstBind := ""
	for _, b := range info.BindAddresses {
		if len(b.Addresses) > 0 {
			firstBind = b.Addresses[0].Value
			break
		}
	}
	firstIngress := ""
	if len(info.IngressAddresses) > 0 {
		firstIngress = info.IngressAddresses[0]
	}
	egressList := append([]string{}, info.EgressSubnets...)
	keys := map[string]any{}
	if bindAddr {
		keys["bind-address"] = firstBind
	}
	if primary {
		keys["primary-address"] = firstBind
	}
	if ingress {
		keys["ingress-address"] = firstIngress
	}
	if egress {
		keys["egress-subnets"] = egressList
	}
	if len(keys) == 1 {
		for _, v := range keys {
			return c.write(v)
		}
	}
	if len(keys) > 1 {
		return c.write(keys)
	}
	binds := []any{}
	for _, b := range info.BindAddresses {
		addrs := []any{}
		for _, a := range b.Addresses {
			addrs = append(addrs, map[string]any{"hostname": a.Hostname, "value": a.Value, "cidr": a.CIDR})
		}
		binds = append(binds, map[string]any{
			"mac-address":    b.MACAddress,
			"interface-name": b.InterfaceName,
			"addresses":      addrs,
		})
	}
	return c.write(map[string]any{
		"bind-addresses":    binds,
		"egress-subnets":    egressList,
		"ingress-addresses": append([]string{}, info.IngressAddresses...),
	})
}

func goalStatus(s GoalStateStatus) map[string]any {
	m := map[string]any{"status": s.Status}
	if s.Since != nil {
		m["since"] = s.Since.UTC().Format("2006-01-02 15:04:05Z")
	}
	return m
}

func goalState(c *call) error {
	c.addFormat(formatYAML, formatJSON, formatYAML)
	args, err := c.parse()
	if err != nil {
		return err
	}
	if err := checkEmpty(args); err != nil {
		return err
	}
	gs, err := c.ctx.GoalState()
	if err != nil {
		return fmt.Errorf("cannot get goal state: %w", err)
	}
	units := map[string]any{}
	for u, s := range gs.Units {
		units[u] = goalStatus(s)
	}
	rels := map[string]any{}
	for ep, m := range gs.Relations {
		inner := map[string]any{}
		for k, s := range m {
			inner[k] = goalStatus(s)
		}
		rels[ep] = inner
	}
	return c.write(map[string]any{"units": units, "relations": rels})
}

func credentialGet(c *call) error {
	c.addFormat(formatSmart)
	args, err := c.parse()
	if err != nil {
		return err
	}
	if err := checkEmpty(args); err != nil {
		return err
	}
	spec, err := c.ctx.CloudSpec()
	if err != nil {
		return err
	}
	return c.write(spec)
}

func resourceGet(c *call) error {
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("missing required resource name")
	}
	if err := checkEmpty(args[1:]); err != nil {
		return err
	}
	path, err := c.ctx.ResourcePath(args[0])
	if errors.Is(err, ErrResourceNotFound) {
		return fmt.Errorf("resource %q not found", args[0])
	}
	if err != nil {
		return fmt.Errorf("cannot get resource %q: %w", args[0], err)
	}
	c.stdout.WriteString(path + "\n")
	return nil
}

func jujuReboot(c *call) error {
	var now bool
	c.flags.boolVar(&now, "reboot immediately, killing the invoking process", "now")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if err := checkEmpty(args); err != nil {
		return err
	}
	if c.ctx.HookInfo().ActionName != "" {
		return errors.New("juju-reboot is not supported when running an action")
	}
	return c.ctx.RequestReboot(now)
}

// stringMap converts for formatting.
func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// parseKeyValues parses key=value arguments.
func parseKeyValues(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usagef("expected \"key=value\", got %q", a)
		}
		out[k] = v
	}
	return out, nil
}

// parseExpire parses an RFC3339 time or a duration from now.
func parseExpire(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("expire time or duration %q not valid", s)
	}
	return now.Add(d), nil
}
