package charm

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Role is the part an endpoint plays in a relation.
type Role string

// The endpoint roles. Providers integrate with requirers of the same
// interface; peers integrate with the other units of their own application.
const (
	RoleProvider Role = "provider"
	RoleRequirer Role = "requirer"
	RolePeer     Role = "peer"
)

// Scope says which units of two related applications see each other.
type Scope string

// The relation scopes. A container-scoped relation joins only units on the
// same machine: a subordinate and its principal.
const (
	ScopeGlobal    Scope = "global"
	ScopeContainer Scope = "container"
)

// Format is the metadata format generation.
type Format int

// The metadata formats. V1 charms may declare series, deployment and
// min-juju-version; V2 charms may declare containers, assumes and
// charm-user. A charm using neither set of keys is V1 unless its
// manifest.yaml declares bases (see (*Charm).Format).
const (
	FormatV1 Format = 1
	FormatV2 Format = 2
)

// ImplicitEndpoint is the endpoint every charm provides without declaring it.
const ImplicitEndpoint = "juju-info"

// Relation is one endpoint declared under provides, requires or peers.
type Relation struct {
	Name      string
	Interface string
	Role      Role
	Limit     int  // zero means unlimited
	Optional  bool // informational only
	Scope     Scope
}

// Meta is the parsed metadata.yaml.
type Meta struct {
	Name        string
	Summary     string
	Description string
	Subordinate bool

	Provides map[string]Relation
	Requires map[string]Relation
	Peers    map[string]Relation

	// ExtraBindings are the extra-bindings names, sorted.
	ExtraBindings []string

	Containers map[string]Container
	Resources  map[string]Resource
	Storage    map[string]Storage

	// Assumes is kept as decoded (strings and any-of/all-of mappings);
	// nothing here evaluates it.
	Assumes []any
	// CharmUser is "root", "sudoer", "non-root" or "" when not declared.
	CharmUser string

	Series         []string // format v1 only
	MinJujuVersion string   // format v1 only

	// Format is what the keys present imply: FormatV2 when containers,
	// assumes or charm-user appear, else FormatV1.
	Format Format
}

// Container is one workload container of a sidecar charm.
type Container struct {
	Resource string // an oci-image resource, or ""
	Mounts   []Mount
	UID      *int // nil when not declared
	GID      *int // nil when not declared
}

// Mount places one storage inside a container.
type Mount struct {
	Storage  string
	Location string
}

// ResourceType is the kind of a charm resource.
type ResourceType string

// The resource types; file is the default.
const (
	ResourceFile     ResourceType = "file"
	ResourceOCIImage ResourceType = "oci-image"
)

// Resource is one entry under resources.
type Resource struct {
	Name        string
	Type        ResourceType
	Filename    string
	Description string
}

// StorageType is the kind of a charm storage.
type StorageType string

// The storage types.
const (
	StorageFilesystem StorageType = "filesystem"
	StorageBlock      StorageType = "block"
)

// Storage is one entry under storage.
type Storage struct {
	Name        string
	Type        StorageType
	Description string
	Shared      bool
	ReadOnly    bool
	CountMin    int    // default 1
	CountMax    int    // default 1; -1 means no upper bound
	MinimumSize uint64 // MiB; zero when not declared
	Location    string // filesystem only
	Properties  []string
}

var (
	charmNameRE    = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]*[a-z][a-z0-9]*)*$`)
	endpointNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	storageCountRE = regexp.MustCompile(`^([0-9]+)([-+]|-[0-9]+)?$`)
	sizeRE         = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([MGTPEZY]?)(?:i?B)?$`)
)

// ValidCharmName reports whether name is a valid charm name: lowercase
// letters and digits in dash-separated words, starting with a letter, and
// no word made of digits alone.
func ValidCharmName(name string) bool {
	return charmNameRE.MatchString(name)
}

// v1Keys and v2Keys decide the metadata format; mixing them is an error.
var (
	v1Keys = []string{"deployment", "min-juju-version", "series"}
	v2Keys = []string{"assumes", "bases", "charm-user", "containers"}
)

// ParseMeta parses the content of a metadata.yaml file and checks it.
func ParseMeta(data []byte) (*Meta, error) {
	raw, err := decodeYAML(data)
	if err != nil {
		return nil, fmt.Errorf("invalid metadata: %w", err)
	}
	m, err := parseMetaTree(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid metadata: %w", err)
	}
	return m, nil
}

func parseMetaTree(raw any) (*Meta, error) {
	if raw == nil {
		raw = map[string]any{}
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected a mapping at the top level, got %s", typeName(raw))
	}
	format, err := metaFormat(top)
	if err != nil {
		return nil, err
	}
	f := fields{m: top}
	meta := &Meta{Format: format}
	if meta.Name, err = f.str("name"); err != nil {
		return nil, err
	}
	if meta.Name == "" {
		return nil, fmt.Errorf(`no charm name: add "name: <charm-name>" at the top level`)
	}
	if !ValidCharmName(meta.Name) {
		return nil, fmt.Errorf("invalid charm name %q: use lowercase letters, digits and dashes, starting with a letter", meta.Name)
	}
	if meta.Summary, err = f.str("summary"); err != nil {
		return nil, err
	}
	if meta.Description, err = f.str("description"); err != nil {
		return nil, err
	}
	if meta.Subordinate, err = f.boolean("subordinate"); err != nil {
		return nil, err
	}
	if meta.Provides, err = parseRelations(f, "provides", RoleProvider); err != nil {
		return nil, err
	}
	if meta.Requires, err = parseRelations(f, "requires", RoleRequirer); err != nil {
		return nil, err
	}
	if meta.Peers, err = parseRelations(f, "peers", RolePeer); err != nil {
		return nil, err
	}
	if meta.ExtraBindings, err = parseExtraBindings(f); err != nil {
		return nil, err
	}
	if meta.Resources, err = parseResources(f); err != nil {
		return nil, err
	}
	if meta.Storage, err = parseStorage(f); err != nil {
		return nil, err
	}
	if meta.Containers, err = parseContainers(f, meta.Resources, meta.Storage); err != nil {
		return nil, err
	}
	if meta.Assumes, err = f.list("assumes"); err != nil {
		return nil, err
	}
	if meta.CharmUser, err = f.str("charm-user"); err != nil {
		return nil, err
	}
	switch meta.CharmUser {
	case "", "root", "sudoer", "non-root":
	default:
		return nil, fmt.Errorf("charm-user: %q is not one of root, sudoer, non-root", meta.CharmUser)
	}
	if meta.Series, err = f.strings("series"); err != nil {
		return nil, err
	}
	if meta.MinJujuVersion, err = f.str("min-juju-version"); err != nil {
		return nil, err
	}
	if err := meta.check(); err != nil {
		return nil, err
	}
	return meta, nil
}

// metaFormat detects the format from the keys present.
func metaFormat(top map[string]any) (Format, error) {
	var v1, v2 []string
	for _, k := range v1Keys {
		if _, ok := top[k]; ok {
			v1 = append(v1, k)
		}
	}
	for _, k := range v2Keys {
		if _, ok := top[k]; ok {
			v2 = append(v2, k)
		}
	}
	switch {
	case len(v1) > 0 && len(v2) > 0:
		return 0, fmt.Errorf("ambiguous metadata: keys %s cannot be used with %s; drop the format v1 keys (series, deployment, min-juju-version)",
			quoteList(v1), quoteList(v2))
	case len(v2) > 0:
		return FormatV2, nil
	}
	return FormatV1, nil
}

func quoteList(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = strconv.Quote(k)
	}
	return strings.Join(q, ", ")
}

func parseRelations(f fields, key string, role Role) (map[string]Relation, error) {
	m, err := f.mapping(key)
	if err != nil || m == nil {
		return nil, err
	}
	out := make(map[string]Relation, len(m))
	for _, name := range sortedKeys(m) {
		path := f.at(key) + "." + name
		if !endpointNameRE.MatchString(name) {
			return nil, fmt.Errorf("%s: invalid endpoint name %q: use lowercase letters, digits, dashes and underscores, starting with a letter", path, name)
		}
		rel := Relation{Name: name, Role: role, Scope: ScopeGlobal}
		switch spec := m[name].(type) {
		case string:
			rel.Interface = spec
		case map[string]any:
			rf := fields{m: spec, path: path}
			if rel.Interface, err = rf.str("interface"); err != nil {
				return nil, err
			}
			limit, _, err := rf.integer("limit")
			if err != nil {
				return nil, err
			}
			if limit < 0 || limit > 1<<31-1 {
				return nil, fmt.Errorf("%s.limit: %d is not a count (zero means unlimited)", path, limit)
			}
			rel.Limit = int(limit)
			if rel.Optional, err = rf.boolean("optional"); err != nil {
				return nil, err
			}
			scope, err := rf.str("scope")
			if err != nil {
				return nil, err
			}
			switch Scope(scope) {
			case "", ScopeGlobal:
			case ScopeContainer:
				rel.Scope = ScopeContainer
			default:
				return nil, fmt.Errorf("%s.scope: %q is not global or container", path, scope)
			}
		default:
			return nil, fmt.Errorf("%s: expected an interface name or a mapping with \"interface\", got %s", path, typeName(spec))
		}
		if rel.Interface == "" {
			return nil, fmt.Errorf("%s: no interface: add \"interface: <name>\"", path)
		}
		out[name] = rel
	}
	return out, nil
}

func parseExtraBindings(f fields) ([]string, error) {
	m, err := f.mapping("extra-bindings")
	if err != nil || m == nil {
		return nil, err
	}
	var out []string
	for _, name := range sortedKeys(m) {
		if m[name] != nil {
			return nil, fmt.Errorf("extra-bindings.%s: expected no value, got %s", name, typeName(m[name]))
		}
		if name == "" {
			return nil, fmt.Errorf("extra-bindings: empty binding name")
		}
		out = append(out, name)
	}
	return out, nil
}

func parseResources(f fields) (map[string]Resource, error) {
	m, err := f.mapping("resources")
	if err != nil || m == nil {
		return nil, err
	}
	out := make(map[string]Resource, len(m))
	for _, name := range sortedKeys(m) {
		path := "resources." + name
		if name == "" {
			return nil, fmt.Errorf("resources: empty resource name")
		}
		spec, ok := m[name].(map[string]any)
		if !ok && m[name] != nil {
			return nil, fmt.Errorf("%s: expected a mapping, got %s", path, typeName(m[name]))
		}
		rf := fields{m: spec, path: path}
		r := Resource{Name: name, Type: ResourceFile}
		typ, err := rf.str("type")
		if err != nil {
			return nil, err
		}
		switch ResourceType(typ) {
		case "", ResourceFile:
		case ResourceOCIImage:
			r.Type = ResourceOCIImage
		default:
			return nil, fmt.Errorf("%s.type: %q is not file or oci-image", path, typ)
		}
		if r.Filename, err = rf.str("filename"); err != nil {
			return nil, err
		}
		if r.Description, err = rf.str("description"); err != nil {
			return nil, err
		}
		if r.Type == ResourceFile && r.Filename == "" {
			return nil, fmt.Errorf("%s: a file resource needs \"filename\"", path)
		}
		out[name] = r
	}
	return out, nil
}

func parseStorage(f fields) (map[string]Storage, error) {
	m, err := f.mapping("storage")
	if err != nil || m == nil {
		return nil, err
	}
	out := make(map[string]Storage, len(m))
	for _, name := range sortedKeys(m) {
		path := "storage." + name
		if !endpointNameRE.MatchString(name) {
			return nil, fmt.Errorf("%s: invalid storage name %q: use lowercase letters, digits, dashes and underscores, starting with a letter", path, name)
		}
		spec, ok := m[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: expected a mapping with \"type\", got %s", path, typeName(m[name]))
		}
		sf := fields{m: spec, path: path}
		st := Storage{Name: name, CountMin: 1, CountMax: 1}
		typ, err := sf.str("type")
		if err != nil {
			return nil, err
		}
		switch StorageType(typ) {
		case StorageFilesystem, StorageBlock:
			st.Type = StorageType(typ)
		case "":
			return nil, fmt.Errorf("%s: no type: add \"type: filesystem\" or \"type: block\"", path)
		default:
			return nil, fmt.Errorf("%s.type: %q is not filesystem or block", path, typ)
		}
		if st.Description, err = sf.str("description"); err != nil {
			return nil, err
		}
		if st.Shared, err = sf.boolean("shared"); err != nil {
			return nil, err
		}
		if st.ReadOnly, err = sf.boolean("read-only"); err != nil {
			return nil, err
		}
		if st.Location, err = sf.str("location"); err != nil {
			return nil, err
		}
		if st.Location != "" && st.Type != StorageFilesystem {
			return nil, fmt.Errorf("%s.location: only filesystem storage has a location", path)
		}
		if st.Properties, err = sf.strings("properties"); err != nil {
			return nil, err
		}
		for _, p := range st.Properties {
			if p != "transient" {
				return nil, fmt.Errorf("%s.properties: unknown property %q (only \"transient\" is known)", path, p)
			}
		}
		multiple, err := sf.mapping("multiple")
		if err != nil {
			return nil, err
		}
		if multiple != nil {
			if st.CountMin, st.CountMax, err = parseStorageRange(multiple["range"]); err != nil {
				return nil, fmt.Errorf("%s.multiple.range: %w", path, err)
			}
		}
		if size, ok := spec["minimum-size"]; ok && size != nil {
			if st.MinimumSize, err = parseSizeMiB(size); err != nil {
				return nil, fmt.Errorf("%s.minimum-size: %w", path, err)
			}
		}
		out[name] = st
	}
	return out, nil
}

// parseStorageRange reads "m", "m-n", "m-" or "m+" (or a bare integer m).
func parseStorageRange(v any) (lo, hi int, err error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case nil:
		return 0, 0, fmt.Errorf(`missing: use "m", "m-n" or "m-"`)
	default:
		n, ok := asInt64(v)
		if !ok {
			return 0, 0, fmt.Errorf("expected a range like \"1-3\", got %s", typeName(v))
		}
		s = strconv.FormatInt(n, 10)
	}
	match := storageCountRE.FindStringSubmatch(strings.TrimSpace(s))
	if match == nil {
		return 0, 0, fmt.Errorf("%q does not match \"m\", \"m-n\" or \"m-\"", s)
	}
	lo, err = strconv.Atoi(match[1])
	if err != nil {
		return 0, 0, fmt.Errorf("%q: count too large", s)
	}
	switch suffix := match[2]; {
	case suffix == "":
		if lo <= 0 {
			return 0, 0, fmt.Errorf("count %d must be at least 1", lo)
		}
		return lo, lo, nil
	case suffix == "-" || suffix == "+":
		return lo, -1, nil
	default:
		hi, err = strconv.Atoi(suffix[1:])
		if err != nil {
			return 0, 0, fmt.Errorf("%q: count too large", s)
		}
		if hi < 1 || hi < lo {
			return 0, 0, fmt.Errorf("%q: maximum must be at least 1 and not below the minimum", s)
		}
		return lo, hi, nil
	}
}

// parseSizeMiB reads a size such as 10G or 512M (MiB when unsuffixed).
func parseSizeMiB(v any) (uint64, error) {
	if n, ok := asInt64(v); ok {
		if n < 0 {
			return 0, fmt.Errorf("size %d is negative", n)
		}
		return uint64(n), nil
	}
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("expected a size like \"10G\", got %s", typeName(v))
	}
	match := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if match == nil {
		return 0, fmt.Errorf("%q is not a size like \"512M\" or \"10G\"", s)
	}
	f, err := strconv.ParseFloat(match[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %w", s, err)
	}
	mult := map[string]float64{"": 1, "M": 1, "G": 1 << 10, "T": 1 << 20, "P": 1 << 30, "E": 1 << 40, "Z": 1 << 50, "Y": 1 << 60}[match[2]]
	mib := f * mult
	if mib >= 1<<63 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return uint64(mib + 0.999999), nil
}

func parseContainers(f fields, resources map[string]Resource, storage map[string]Storage) (map[string]Container, error) {
	m, err := f.mapping("containers")
	if err != nil || m == nil {
		return nil, err
	}
	out := make(map[string]Container, len(m))
	for _, name := range sortedKeys(m) {
		path := "containers." + name
		if !endpointNameRE.MatchString(name) {
			return nil, fmt.Errorf("%s: invalid container name %q: use lowercase letters, digits, dashes and underscores, starting with a letter", path, name)
		}
		spec, ok := m[name].(map[string]any)
		if !ok && m[name] != nil {
			return nil, fmt.Errorf("%s: expected a mapping, got %s", path, typeName(m[name]))
		}
		cf := fields{m: spec, path: path}
		var c Container
		if c.Resource, err = cf.str("resource"); err != nil {
			return nil, err
		}
		if c.Resource != "" {
			r, ok := resources[c.Resource]
			if !ok {
				return nil, fmt.Errorf("%s.resource: %q is not declared under resources; add it with \"type: oci-image\"", path, c.Resource)
			}
			if r.Type != ResourceOCIImage {
				return nil, fmt.Errorf("%s.resource: resource %q has type %s, want oci-image", path, c.Resource, r.Type)
			}
		}
		for _, id := range []struct {
			key string
			dst **int
		}{{"uid", &c.UID}, {"gid", &c.GID}} {
			n, present, err := cf.integer(id.key)
			if err != nil {
				return nil, err
			}
			if !present {
				continue
			}
			if n < 0 || n > 1<<31-1 {
				return nil, fmt.Errorf("%s.%s: %d is out of range", path, id.key, n)
			}
			if n >= 1000 && n < 10000 {
				return nil, fmt.Errorf("%s.%s: %d is in the reserved range 1000-9999; pick a value below 1000 or from 10000", path, id.key, n)
			}
			v := int(n)
			*id.dst = &v
		}
		mounts, err := cf.list("mounts")
		if err != nil {
			return nil, err
		}
		for i, item := range mounts {
			mpath := fmt.Sprintf("%s.mounts[%d]", path, i)
			mm, ok := item.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: expected a mapping with storage and location, got %s", mpath, typeName(item))
			}
			mf := fields{m: mm, path: mpath}
			var mount Mount
			if mount.Storage, err = mf.str("storage"); err != nil {
				return nil, err
			}
			if mount.Location, err = mf.str("location"); err != nil {
				return nil, err
			}
			if mount.Storage == "" {
				return nil, fmt.Errorf("%s: no storage: add \"storage: <name>\"", mpath)
			}
			if mount.Location == "" {
				return nil, fmt.Errorf("%s: no location: add \"location: <path>\"", mpath)
			}
			if _, ok := storage[mount.Storage]; !ok {
				return nil, fmt.Errorf("%s.storage: %q is not declared under storage", mpath, mount.Storage)
			}
			c.Mounts = append(c.Mounts, mount)
		}
		out[name] = c
	}
	return out, nil
}

// reservedName reports whether an endpoint or action name is kept for
// Juju itself: "juju" and anything starting "juju-". Charms whose own name
// starts "juju-" are exempt, as in Juju.
func reservedName(charmName, name string) bool {
	if strings.HasPrefix(charmName, "juju-") {
		return false
	}
	return name == "juju" || strings.HasPrefix(name, "juju-")
}

// check applies the rules that span several keys.
func (m *Meta) check() error {
	if m.Format == FormatV2 && (len(m.Series) > 0 || m.MinJujuVersion != "") {
		return fmt.Errorf("ambiguous metadata: series and min-juju-version belong to format v1")
	}
	seen := map[string]Role{}
	for _, group := range []map[string]Relation{m.Provides, m.Requires, m.Peers} {
		for _, name := range sortedKeys(group) {
			rel := group[name]
			// A subordinate's container-scoped requirer may use the
			// reserved namespace: "requires: juju-info" is how most
			// subordinates attach to any principal.
			exempt := m.Subordinate && rel.Role == RoleRequirer && rel.Scope == ScopeContainer
			if !exempt && reservedName(m.Name, name) {
				return fmt.Errorf("endpoint %q uses a reserved name (\"juju\" and the \"juju-\" prefix are kept for Juju); rename it", name)
			}
			if rel.Role != RoleRequirer && reservedName(m.Name, rel.Interface) {
				return fmt.Errorf("endpoint %q uses the reserved interface %q; only requirers may use it", name, rel.Interface)
			}
			if other, dup := seen[name]; dup {
				return fmt.Errorf("endpoint %q is declared as both %s and %s; endpoint names must be unique", name, other, rel.Role)
			}
			seen[name] = rel.Role
		}
	}
	for _, b := range m.ExtraBindings {
		if _, clash := seen[b]; clash {
			return fmt.Errorf("extra-bindings.%s: the name is already an endpoint; extra bindings must not repeat endpoint names", b)
		}
	}
	if m.Subordinate {
		ok := false
		for _, rel := range m.Requires {
			if rel.Scope == ScopeContainer {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("subordinate charm %q lacks \"requires\" relation with container scope: add one with \"scope: container\" (for example requires: {juju-info: {interface: juju-info, scope: container}})", m.Name)
		}
	}
	return nil
}

// Endpoints returns every endpoint of the charm, sorted by name then role.
// The implicit juju-info provider is always included, as in Juju, unless
// the charm declares a provider of that name itself; a subordinate's
// declared "requires: juju-info" therefore appears next to it.
func (m *Meta) Endpoints() []Relation {
	var out []Relation
	for _, group := range []map[string]Relation{m.Provides, m.Requires, m.Peers} {
		for _, rel := range group {
			out = append(out, rel)
		}
	}
	if _, declared := m.Provides[ImplicitEndpoint]; !declared {
		out = append(out, implicitRelation())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Role < out[j].Role
	})
	return out
}

// Endpoint returns the named endpoint. A declared endpoint wins over the
// implicit juju-info provider.
func (m *Meta) Endpoint(name string) (Relation, bool) {
	if rel, ok := m.endpoint(name); ok {
		return rel, true
	}
	if name == ImplicitEndpoint {
		return implicitRelation(), true
	}
	return Relation{}, false
}

func (m *Meta) endpoint(name string) (Relation, bool) {
	for _, group := range []map[string]Relation{m.Provides, m.Requires, m.Peers} {
		if rel, ok := group[name]; ok {
			return rel, true
		}
	}
	return Relation{}, false
}

func implicitRelation() Relation {
	return Relation{Name: ImplicitEndpoint, Interface: ImplicitEndpoint, Role: RoleProvider, Scope: ScopeGlobal}
}
