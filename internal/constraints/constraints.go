// Package constraints parses Juju's constraint syntax ("mem=1G cores=4")
// into typed values, as `model-constraints --format json` prints them:
// memory-like sizes in MiB (integers), counts as integers, lists split on
// commas, allocate-public-ip as a bool, everything else a string. It is
// pure: no I/O. The CLI (deploy, add-machine, set-model-constraints) and
// the controller both validate with it.
package constraints

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

type kind int

const (
	kindString kind = iota
	kindInt
	kindSize // MiB, with an optional M/G/T/P suffix
	kindList
	kindBool
)

var keys = map[string]kind{
	"arch": kindString, "container": kindString, "cores": kindInt, "cpu-power": kindInt,
	"mem": kindSize, "root-disk": kindSize, "root-disk-source": kindString, "tags": kindList,
	"instance-role": kindString, "instance-type": kindString, "spaces": kindList, "virt-type": kindString,
	"zones": kindList, "allocate-public-ip": kindBool, "image-id": kindString,
}

var arches = map[string]bool{"amd64": true, "arm64": true, "ppc64el": true, "s390x": true, "riscv64": true}

// Parse parses constraint tokens; each token holds one or more
// space-separated key=value pairs (Juju joins repeated --constraints
// flags the same way). A later key overrides an earlier one. An empty
// value leaves the key out.
func Parse(tokens []string) (map[string]any, error) {
	out := map[string]any{}
	for _, tok := range tokens {
		for _, field := range strings.Fields(tok) {
			k, v, ok := strings.Cut(field, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("malformed constraint %q: expected key=value (e.g. mem=4G cores=2)", field)
			}
			kd, known := keys[k]
			if !known {
				return nil, fmt.Errorf("unknown constraint %q; valid constraints are %s", k, strings.Join(Names(), ", "))
			}
			if v == "" {
				delete(out, k)
				continue
			}
			val, err := parseValue(k, kd, v)
			if err != nil {
				return nil, err
			}
			out[k] = val
		}
	}
	return out, nil
}

// Names lists the known constraint keys, sorted.
func Names() []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func parseValue(k string, kd kind, v string) (any, error) {
	switch kd {
	case kindInt:
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad %q constraint %q: expected a non-negative integer", k, v)
		}
		return int(n), nil
	case kindSize:
		return parseSize(k, v)
	case kindList:
		var items []string
		for _, it := range strings.Split(v, ",") {
			if it != "" {
				items = append(items, it)
			}
		}
		return items, nil
	case kindBool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("bad %q constraint %q: expected true or false", k, v)
		}
		return b, nil
	}
	if k == "arch" && !arches[v] {
		return nil, fmt.Errorf("bad \"arch\" constraint %q: expected one of amd64, arm64, ppc64el, riscv64, s390x", v)
	}
	return v, nil
}

var sizeUnits = map[byte]float64{'M': 1, 'G': 1024, 'T': 1024 * 1024, 'P': 1024 * 1024 * 1024}

// parseSize reads a size in MiB: "1024", "1.5G", "2T".
func parseSize(k, v string) (int, error) {
	mult := 1.0
	num := v
	if u, ok := sizeUnits[v[len(v)-1]]; ok {
		mult, num = u, v[:len(v)-1]
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("bad %q constraint %q: expected a size such as 512M, 4G or 1.5T", k, v)
	}
	return int(math.Ceil(f * mult)), nil
}

// Format renders typed constraints back as "k=v k=v", keys sorted.
func Format(c map[string]any) string {
	names := make([]string, 0, len(c))
	for k := range c {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		switch v := c[k].(type) {
		case []string:
			parts = append(parts, k+"="+strings.Join(v, ","))
		case []any:
			s := make([]string, len(v))
			for i, x := range v {
				s[i] = fmt.Sprint(x)
			}
			parts = append(parts, k+"="+strings.Join(s, ","))
		case float64:
			parts = append(parts, k+"="+strconv.FormatFloat(v, 'f', -1, 64)+sizeSuffix(k))
		case int:
			parts = append(parts, k+"="+strconv.Itoa(v)+sizeSuffix(k))
		default:
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, " ")
}

func sizeSuffix(k string) string {
	if keys[k] == kindSize {
		return "M"
	}
	return ""
}
