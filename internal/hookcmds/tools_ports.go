package hookcmds

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ParsePortRange parses "<port>[/<proto>]", "<from>-<to>[/<proto>]" or
// "icmp"; the protocol defaults to tcp.
func ParsePortRange(s string) (PortRange, error) {
	bad := fmt.Errorf("invalid port or range %q: expected <port>[/<protocol>], <from>-<to>[/<protocol>] or icmp", s)
	if strings.EqualFold(s, "icmp") {
		return PortRange{From: -1, To: -1, Protocol: "icmp"}, nil
	}
	spec, proto, hasProto := strings.Cut(s, "/")
	proto = strings.ToLower(proto)
	if !hasProto {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" {
		return PortRange{}, bad
	}
	fromS, toS, isRange := strings.Cut(spec, "-")
	from, err := strconv.Atoi(fromS)
	if err != nil {
		return PortRange{}, bad
	}
	to := from
	if isRange {
		if to, err = strconv.Atoi(toS); err != nil {
			return PortRange{}, bad
		}
	}
	if from < 1 || from > 65535 || to < 1 || to > 65535 || from > to {
		return PortRange{}, fmt.Errorf("invalid port range %q: ports must be in 1-65535 and from <= to", s)
	}
	return PortRange{From: from, To: to, Protocol: proto}, nil
}

// String renders a range as opened-ports prints it.
func (r PortRange) String() string {
	if r.Protocol == "icmp" {
		return "icmp"
	}
	if r.From == r.To {
		return fmt.Sprintf("%d/%s", r.From, r.Protocol)
	}
	return fmt.Sprintf("%d-%d/%s", r.From, r.To, r.Protocol)
}

func lessPortRange(a, b PortRange) bool {
	if a.From != b.From {
		return a.From < b.From
	}
	if a.To != b.To {
		return a.To < b.To
	}
	return a.Protocol < b.Protocol
}

func openPort(c *call) error  { return changePort(c, true) }
func closePort(c *call) error { return changePort(c, false) }

func changePort(c *call, open bool) error {
	var endpoints string
	var formatFlag string
	c.flags.stringVar(&endpoints, "a comma-delimited list of application endpoints to target with this operation", "endpoints")
	c.flags.stringVar(&formatFlag, "deprecated format flag", "format")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no port or range specified")
	}
	if err := checkEmpty(args[1:]); err != nil {
		return err
	}
	r, err := ParsePortRange(args[0])
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	eps := []string{""}
	if endpoints != "" {
		eps = nil
		for _, ep := range strings.Split(endpoints, ",") {
			if ep = strings.TrimSpace(ep); ep != "" {
				eps = append(eps, ep)
			}
		}
		if len(eps) == 0 {
			return usagef("no endpoints specified")
		}
	}
	for _, ep := range eps {
		if open {
			err = c.ctx.OpenPortRange(ep, r)
		} else {
			err = c.ctx.ClosePortRange(ep, r)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func openedPorts(c *call) error {
	var withEndpoints bool
	c.addFormat(formatSmart)
	c.flags.boolVar(&withEndpoints, "display the list of target application endpoints for each port range", "endpoints")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if err := checkEmpty(args); err != nil {
		return err
	}
	byEndpoint, err := c.ctx.OpenedPortRanges()
	if err != nil {
		return err
	}
	eps := map[PortRange][]string{}
	for ep, ranges := range byEndpoint {
		for _, r := range ranges {
			if ep == "" {
				ep = "*"
			}
			eps[r] = append(eps[r], ep)
		}
	}
	ranges := make([]PortRange, 0, len(eps))
	for r := range eps {
		ranges = append(ranges, r)
	}
	sort.Slice(ranges, func(i, j int) bool { return lessPortRange(ranges[i], ranges[j]) })
	out := []string{}
	for _, r := range ranges {
		if !withEndpoints {
			out = append(out, r.String())
			continue
		}
		list := eps[r]
		sort.Strings(list)
		if list[0] == "*" {
			list = []string{"*"}
		}
		out = append(out, fmt.Sprintf("%s (%s)", r, strings.Join(list, ",")))
	}
	return c.write(out)
}

var errNoStorage = errors.New("no storage instance specified")

func storageList(c *call) error {
	c.addFormat(formatSmart)
	args, err := c.parse()
	if err != nil {
		return err
	}
	name := ""
	if len(args) > 0 {
		name = args[0]
		if err := checkEmpty(args[1:]); err != nil {
			return err
		}
	}
	ids, err := c.ctx.StorageIDs()
	if err != nil {
		return err
	}
	out := []string{}
	for _, id := range ids {
		if name == "" || applicationOf(id) == name {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return c.write(out)
}

func storageGet(c *call) error {
	id := c.ctx.HookInfo().StorageID
	c.addFormat(formatSmart)
	c.flags.funcVar(func(s string) error {
		if !isUnitName(s) {
			return fmt.Errorf("invalid storage ID %q", s)
		}
		id = s
		return nil
	}, func() string { return c.ctx.HookInfo().StorageID }, "specify a storage instance by id", "s")
	args, err := c.parse()
	if err != nil {
		return err
	}
	if id == "" {
		return &usageError{msg: errNoStorage.Error()}
	}
	key := ""
	if len(args) > 0 {
		key = args[0]
		if err := checkEmpty(args[1:]); err != nil {
			return err
		}
	}
	att, err := c.ctx.StorageAttachment(id)
	if errors.Is(err, ErrStorageNotFound) {
		return fmt.Errorf("storage %q not found", id)
	}
	if err != nil {
		return err
	}
	values := map[string]any{"kind": att.Kind, "location": att.Location}
	if key == "" {
		return c.write(values)
	}
	v, ok := values[key]
	if !ok {
		return fmt.Errorf("invalid storage attribute %q", key)
	}
	return c.write(v)
}

func storageAdd(c *call) error {
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("storage add requires a storage directive")
	}
	counts := map[string]int{}
	var order []string
	for _, a := range args {
		name, cons, hasCons := strings.Cut(a, "=")
		count := 1
		if hasCons {
			n, err := strconv.Atoi(cons)
			if err != nil || n < 1 {
				return usagef("only count can be specified for %q", name)
			}
			count = n
		}
		if name == "" {
			return usagef("storage add requires a storage directive")
		}
		if _, ok := counts[name]; !ok {
			order = append(order, name)
		}
		counts[name] += count
	}
	for _, name := range order {
		if err := c.ctx.AddStorage(name, counts[name]); err != nil {
			return fmt.Errorf("cannot add storage %q: %w", name, err)
		}
	}
	return nil
}

func stateGet(c *call) error {
	var strict bool
	c.addFormat(formatSmart)
	c.flags.boolVar(&strict, "Return an error if the requested key does not exist", "strict")
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
	}
	state, err := c.ctx.CharmState()
	if err != nil {
		return fmt.Errorf("cannot read charm state: %w", err)
	}
	if key == "" {
		return c.write(stringMap(state))
	}
	v, ok := state[key]
	if !ok && strict {
		return fmt.Errorf("key %q not found", key)
	}
	return c.write(v)
}

func stateSet(c *call) error {
	var file string
	c.flags.stringVar(&file, "file containing key-value pairs", "file")
	args, err := c.parse()
	if err != nil {
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
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := c.ctx.SetCharmStateValue(k, settings[k]); err != nil {
			return err
		}
	}
	return nil
}

func stateDelete(c *call) error {
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no key specified")
	}
	if err := checkEmpty(args[1:]); err != nil {
		return err
	}
	return c.ctx.DeleteCharmStateValue(args[0])
}
