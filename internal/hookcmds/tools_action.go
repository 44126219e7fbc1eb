package hookcmds

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/troupe-dev/troupe/internal/limits"
)

func actionGet(c *call) error {
	c.addFormat(formatSmart)
	args, err := c.parse()
	if err != nil {
		return err
	}
	var path []string
	if len(args) > 0 {
		path = strings.Split(args[0], ".")
		if err := checkEmpty(args[1:]); err != nil {
			return err
		}
	}
	params, err := c.ctx.ActionParams()
	if err != nil {
		return err
	}
	var v any = params
	if params == nil {
		v = map[string]any{}
	}
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return c.write(nil)
		}
		if v, ok = m[k]; !ok {
			return c.write(nil)
		}
	}
	return c.write(v)
}

var actionKeyRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

var reservedActionKeys = map[string]bool{"stdout": true, "stdout-encoding": true, "stderr": true, "stderr-encoding": true}

func actionSet(c *call) error {
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no key=value pairs specified")
	}
	results := map[string]any{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return usagef("argument %q must be of the form key...=value", a)
		}
		keys := strings.Split(k, ".")
		for _, seg := range keys {
			if !actionKeyRE.MatchString(seg) {
				return usagef("key %q must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods", seg)
			}
		}
		if reservedActionKeys[keys[0]] {
			return usagef("cannot set reserved action key %q", keys[0])
		}
		m := results
		for _, seg := range keys[:len(keys)-1] {
			next, ok := m[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[seg] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = v
	}
	size := 0
	for _, a := range args {
		size += len(a) - 1 // key=value, without the "="
	}
	if err := limits.Check("action results", size, limits.ActionResults); err != nil {
		return err
	}
	return c.ctx.UpdateActionResults(results)
}

func actionLog(c *call) error {
	args, err := c.parse()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no message specified")
	}
	msg := strings.Join(args, " ")
	if err := limits.Check("action log message", len(msg), limits.LogLine); err != nil {
		return err
	}
	return c.ctx.LogActionMessage(msg)
}

const defaultActionFailMessage = "action failed without reason given, check action for errors"

func actionFail(c *call) error {
	args, err := c.parse()
	if err != nil {
		return err
	}
	msg := defaultActionFailMessage
	if len(args) > 0 {
		msg = args[0]
		if err := checkEmpty(args[1:]); err != nil {
			return err
		}
	}
	if err := c.ctx.SetActionFailed(msg); err != nil {
		if errors.Is(err, ErrNotAction) {
			return err
		}
		return fmt.Errorf("cannot fail action: %w", err)
	}
	return nil
}
