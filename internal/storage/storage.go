// Package storage holds the pure decisions about charm storage: parsing
// `--storage name=pool,size,count` directives, resolving them against the
// charm's metadata into the per-unit directives an application keeps, and
// where the local provider puts a filesystem instance.
//
// The local provider supports filesystem storage only, from the `rootfs`
// pool: each instance is a directory under the unit's machine directory
// (LocalDir). Every local machine shares this host's file system, so the
// charm's `location` (e.g. /srv/data) is never mounted or linked: two
// machines on one host would clash there. The location a charm sees
// (storage-get location, JUJU_STORAGE_LOCATION) and status reports is the
// instance's directory.
package storage

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
)

// DefaultPool is the local provider's only pool.
const DefaultPool = "rootfs"

// DefaultSizeMiB is the size of an instance when neither the directive nor
// the charm's minimum-size says (1 GiB, as Juju).
const DefaultSizeMiB = 1024

// Directive is one parsed `--storage` value; zero fields were not given.
type Directive struct {
	Pool    string
	SizeMiB uint64
	Count   int
	// HasCount distinguishes an explicit count of 0 from none.
	HasCount bool
}

var (
	sizeRE  = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)([MGTPEZY])(?:i?B)?$`)
	countRE = regexp.MustCompile(`^[0-9]+$`)
	poolRE  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*$`)
)

// ParseDirective parses "pool,size,count" (any order, each optional):
// an integer is the count, a number with a unit suffix (M, G, T, …) the
// size, a name the pool.
func ParseDirective(s string) (Directive, error) {
	var d Directive
	if strings.TrimSpace(s) == "" {
		return d, fmt.Errorf("empty storage directive: use <pool>,<size>,<count>, e.g. rootfs,2G,1")
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch {
		case countRE.MatchString(f):
			if d.HasCount {
				return d, fmt.Errorf("storage directive %q: more than one count", s)
			}
			n, err := strconv.Atoi(f)
			if err != nil {
				return d, fmt.Errorf("storage directive %q: count %q is too large", s, f)
			}
			d.Count, d.HasCount = n, true
		case sizeRE.MatchString(f):
			if d.SizeMiB != 0 {
				return d, fmt.Errorf("storage directive %q: more than one size", s)
			}
			m := sizeRE.FindStringSubmatch(f)
			v, _ := strconv.ParseFloat(m[1], 64)
			mib := v * float64(uint64(1)<<(10*strings.Index("MGTPEZY", m[2])))
			if mib < 1 || mib > 1<<50 {
				return d, fmt.Errorf("storage directive %q: size %q out of range", s, f)
			}
			d.SizeMiB = uint64(mib + 0.5)
		case poolRE.MatchString(f):
			if d.Pool != "" {
				return d, fmt.Errorf("storage directive %q: more than one pool", s)
			}
			d.Pool = f
		default:
			return d, fmt.Errorf("storage directive %q: %q is neither a pool name, a size (e.g. 10G) nor a count", s, f)
		}
	}
	return d, nil
}

// Resolve turns the charm's storage and the user's `--storage` directives
// (by storage name, raw values) into the directive for each declared
// storage. It fails on a directive for an undeclared storage, a count
// outside the charm's range, a size below minimum-size, a pool the local
// provider does not have, and block storage that would be created.
func Resolve(meta map[string]charm.Storage, user map[string]string) (map[string]entity.StorageDirective, error) {
	for _, name := range slices.Sorted(maps.Keys(user)) {
		if _, ok := meta[name]; !ok {
			declared := slices.Sorted(maps.Keys(meta))
			if len(declared) == 0 {
				return nil, fmt.Errorf("charm declares no storage, so --storage %s=%s cannot be used", name, user[name])
			}
			return nil, fmt.Errorf("charm has no storage %q: it declares %s", name, strings.Join(declared, ", "))
		}
	}
	out := map[string]entity.StorageDirective{}
	for _, name := range slices.Sorted(maps.Keys(meta)) {
		st := meta[name]
		d := Directive{}
		if raw, ok := user[name]; ok {
			var err error
			if d, err = ParseDirective(raw); err != nil {
				return nil, err
			}
		}
		sd := entity.StorageDirective{Kind: string(st.Type), Pool: DefaultPool, SizeMiB: DefaultSizeMiB,
			Count: st.CountMin, CountMax: st.CountMax, Location: st.Location, ReadOnly: st.ReadOnly}
		if st.MinimumSize > sd.SizeMiB {
			sd.SizeMiB = st.MinimumSize
		}
		if d.Pool != "" {
			if d.Pool != DefaultPool {
				return nil, fmt.Errorf("storage %q: pool %q is not available on the local provider: use %q", name, d.Pool, DefaultPool)
			}
			sd.Pool = d.Pool
		}
		if d.SizeMiB != 0 {
			if d.SizeMiB < st.MinimumSize {
				return nil, fmt.Errorf("storage %q: size %dM is below the charm's minimum-size %dM", name, d.SizeMiB, st.MinimumSize)
			}
			sd.SizeMiB = d.SizeMiB
		}
		if d.HasCount {
			sd.Count = d.Count
		}
		if err := CheckCount(name, st.CountMin, st.CountMax, sd.Count); err != nil {
			return nil, err
		}
		if st.Type == charm.StorageBlock && sd.Count > 0 {
			return nil, fmt.Errorf("storage %q: block storage is not supported by the local provider (only filesystem storage, as directories); deploy with --storage %s=0 if the charm allows it", name, name)
		}
		out[name] = sd
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// CheckCount checks that count instances fit the charm's range min..max
// (max -1: unbounded).
func CheckCount(name string, min, max, count int) error {
	if count < min {
		return fmt.Errorf("storage %q: count %d is below the charm's minimum %d", name, count, min)
	}
	if max >= 0 && count > max {
		return fmt.Errorf("storage %q: count %d exceeds the charm's maximum %d", name, count, max)
	}
	return nil
}

// CheckAdd decides a storage-add of n more instances of name for a unit
// that has have of them, under the application's directives.
func CheckAdd(dirs map[string]entity.StorageDirective, name string, have, n int) (entity.StorageDirective, error) {
	d, ok := dirs[name]
	if !ok {
		return d, fmt.Errorf("charm storage %q not found", name)
	}
	if n < 1 {
		return d, fmt.Errorf("storage %q: count must be positive, got %d", name, n)
	}
	if d.Kind == string(charm.StorageBlock) {
		return d, fmt.Errorf("storage %q: block storage is not supported by the local provider", name)
	}
	if d.CountMax >= 0 && have+n > d.CountMax {
		return d, fmt.Errorf("storage %q: %d more would make %d, above the charm's maximum %d", name, n, have+n, d.CountMax)
	}
	return d, nil
}

// LocalDir is where the local provider keeps filesystem instance id of
// a machine whose agent data directory is machineDir.
func LocalDir(machineDir, id string) string {
	return filepath.Join(machineDir, "storage", strings.ReplaceAll(id, "/", "-"))
}

// ValidID reports whether id is "<name>/<n>".
func ValidID(id string) bool {
	name, num, ok := strings.Cut(id, "/")
	if !ok || name == "" || strings.Contains(num, "/") {
		return false
	}
	n, err := strconv.Atoi(num)
	return err == nil && n >= 0 && strconv.Itoa(n) == num
}
