package charm

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseMetaErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"not yaml", "name: [", "invalid YAML"},
		{"top-level list", "- a", "expected a mapping at the top level"},
		{"no name", "summary: x", `no charm name: add "name: <charm-name>"`},
		{"name not string", "name: [a]", "name: expected a string, got list"},
		{"bad name upper", "name: Foo", `invalid charm name "Foo"`},
		{"bad name digits word", "name: foo-1", `invalid charm name "foo-1"`},
		{"bad name leading digit", "name: 1foo", `invalid charm name "1foo"`},
		{"bad name trailing dash", "name: foo-", `invalid charm name "foo-"`},
		{"duplicate key", "name: a\nname: b", `key "name" appears twice`},
		{"summary type", "name: a\nsummary: [x]", "summary: expected a string"},
		{"subordinate type", "name: a\nsubordinate: yes", "subordinate: expected true or false"},
		{"provides not map", "name: a\nprovides: [x]", "provides: expected a mapping, got list"},
		{"relation spec type", "name: a\nprovides:\n  db: 3", `provides.db: expected an interface name or a mapping`},
		{"relation no interface", "name: a\nprovides:\n  db: {limit: 1}", `provides.db: no interface`},
		{"relation empty interface", "name: a\nprovides:\n  db: ''", `provides.db: no interface`},
		{"relation bad scope", "name: a\nrequires:\n  db: {interface: x, scope: local}", `requires.db.scope: "local" is not global or container`},
		{"relation bad limit", "name: a\nrequires:\n  db: {interface: x, limit: -1}", `requires.db.limit: -1 is not a count`},
		{"relation limit type", "name: a\nrequires:\n  db: {interface: x, limit: one}", `requires.db.limit: expected an integer`},
		{"relation optional type", "name: a\nrequires:\n  db: {interface: x, optional: 1}", `requires.db.optional: expected true or false`},
		{"endpoint name", "name: a\nprovides:\n  Web: http", `invalid endpoint name "Web"`},
		{"endpoint name slash", "name: a\nprovides:\n  a/b: http", `invalid endpoint name "a/b"`},
		{"reserved juju", "name: a\nprovides:\n  juju: http", `endpoint "juju" uses a reserved name`},
		{"reserved prefix", "name: a\nrequires:\n  juju-db: {interface: x}", `endpoint "juju-db" uses a reserved name`},
		{"reserved on non-subordinate container requirer", "name: a\nrequires:\n  juju-info: {interface: juju-info, scope: container}", `endpoint "juju-info" uses a reserved name`},
		{"reserved interface on provider", "name: a\nprovides:\n  info: juju-info", `endpoint "info" uses the reserved interface "juju-info"`},
		{"reserved interface on peer", "name: a\npeers:\n  p: juju", `uses the reserved interface "juju"`},
		{"duplicate endpoint", "name: a\nprovides:\n  x: http\nrequires:\n  x: http", `endpoint "x" is declared as both provider and requirer`},
		{"extra binding clash", "name: a\nprovides:\n  x: http\nextra-bindings:\n  x:", `extra-bindings.x: the name is already an endpoint`},
		{"extra binding value", "name: a\nextra-bindings:\n  x: 1", `extra-bindings.x: expected no value`},
		{"subordinate without container", "name: a\nsubordinate: true\nrequires:\n  db: pgsql", `subordinate charm "a" lacks "requires" relation with container scope`},
		{"subordinate container provider only", "name: a\nsubordinate: true\nprovides:\n  db: {interface: x, scope: container}", `lacks "requires" relation with container scope`},
		{"ambiguous", "name: a\nseries: [jammy]\ncontainers:\n  c: {}", `ambiguous metadata: keys "series" cannot be used with "containers"`},
		{"ambiguous assumes", "name: a\nmin-juju-version: 2.9.0\nassumes: [juju]", `ambiguous metadata`},
		{"ambiguous deployment", "name: a\ndeployment: {}\ncharm-user: root", `ambiguous metadata: keys "deployment" cannot be used with "charm-user"`},
		{"charm-user", "name: a\ncharm-user: admin", `charm-user: "admin" is not one of root, sudoer, non-root`},
		{"series type", "name: a\nseries: jammy", "series: expected a list"},
		{"series item", "name: a\nseries: [1]", "series[0]: expected a string"},
		{"assumes type", "name: a\nassumes: juju", "assumes: expected a list"},
		{"resource type", "name: a\nresources:\n  r: {type: docker}", `resources.r.type: "docker" is not file or oci-image`},
		{"resource file no filename", "name: a\nresources:\n  r: {description: x}", `resources.r: a file resource needs "filename"`},
		{"resource spec type", "name: a\nresources:\n  r: [x]", `resources.r: expected a mapping`},
		{"storage no type", "name: a\nstorage:\n  d: {location: /x}", `storage.d: no type`},
		{"storage bad type", "name: a\nstorage:\n  d: {type: disk}", `storage.d.type: "disk" is not filesystem or block`},
		{"storage spec", "name: a\nstorage:\n  d: block", `storage.d: expected a mapping`},
		{"storage block location", "name: a\nstorage:\n  d: {type: block, location: /x}", `storage.d.location: only filesystem storage has a location`},
		{"storage range junk", "name: a\nstorage:\n  d: {type: block, multiple: {range: x}}", `storage.d.multiple.range: "x" does not match`},
		{"storage range zero", "name: a\nstorage:\n  d: {type: block, multiple: {range: 0}}", `count 0 must be at least 1`},
		{"storage range inverted", "name: a\nstorage:\n  d: {type: block, multiple: {range: 3-2}}", `maximum must be at least 1 and not below the minimum`},
		{"storage range missing", "name: a\nstorage:\n  d: {type: block, multiple: {}}", `storage.d.multiple.range: missing`},
		{"storage size", "name: a\nstorage:\n  d: {type: block, minimum-size: lots}", `storage.d.minimum-size: "lots" is not a size`},
		{"storage shared type", "name: a\nstorage:\n  d: {type: block, shared: maybe}", `storage.d.shared: expected true or false`},
		{"storage property", "name: a\nstorage:\n  d: {type: block, properties: [durable]}", `unknown property "durable"`},
		{"storage name", "name: a\nstorage:\n  D: {type: block}", `invalid storage name "D"`},
		{"container unknown resource", "name: a\ncontainers:\n  c: {resource: img}", `containers.c.resource: "img" is not declared under resources`},
		{"container file resource", "name: a\nresources:\n  img: {filename: x}\ncontainers:\n  c: {resource: img}", `resource "img" has type file, want oci-image`},
		{"container mount no storage", "name: a\ncontainers:\n  c:\n    mounts: [{location: /x}]", `containers.c.mounts[0]: no storage`},
		{"container mount no location", "name: a\nstorage:\n  s: {type: filesystem}\ncontainers:\n  c:\n    mounts: [{storage: s}]", `containers.c.mounts[0]: no location`},
		{"container mount unknown storage", "name: a\ncontainers:\n  c:\n    mounts: [{storage: s, location: /x}]", `containers.c.mounts[0].storage: "s" is not declared under storage`},
		{"container mount not map", "name: a\ncontainers:\n  c:\n    mounts: [x]", `containers.c.mounts[0]: expected a mapping`},
		{"container reserved uid", "name: a\ncontainers:\n  c: {uid: 1000}", `containers.c.uid: 1000 is in the reserved range 1000-9999`},
		{"container reserved gid", "name: a\ncontainers:\n  c: {gid: 9999}", `containers.c.gid: 9999 is in the reserved range`},
		{"container negative uid", "name: a\ncontainers:\n  c: {uid: -1}", `containers.c.uid: -1 is out of range`},
		{"container uid type", "name: a\ncontainers:\n  c: {uid: root}", `containers.c.uid: expected an integer`},
		{"alias bomb", "name: a\nx: &a [1,1,1,1,1,1,1,1,1,1]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nz: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nw: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nv: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nu: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\nt: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]", "too many values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMeta([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("ParseMeta succeeded (%+v), want error containing %q", m, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "invalid metadata: ") {
				t.Errorf("error %q lacks the invalid metadata prefix", err)
			}
		})
	}
}

func TestParseMetaRelations(t *testing.T) {
	m, err := ParseMeta([]byte(`
name: app
provides:
  web: http
  admin:
    interface: http
    limit: 2
    optional: true
requires:
  db:
    interface: pgsql
    scope: container
  cache: {interface: redis, limit: ~}
peers:
  ring: app-peers
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Relation{
		"web":   {Name: "web", Interface: "http", Role: RoleProvider, Scope: ScopeGlobal},
		"admin": {Name: "admin", Interface: "http", Role: RoleProvider, Limit: 2, Optional: true, Scope: ScopeGlobal},
		"db":    {Name: "db", Interface: "pgsql", Role: RoleRequirer, Scope: ScopeContainer},
		"cache": {Name: "cache", Interface: "redis", Role: RoleRequirer, Scope: ScopeGlobal},
		"ring":  {Name: "ring", Interface: "app-peers", Role: RolePeer, Scope: ScopeGlobal},
	}
	for name, rel := range want {
		got, ok := m.Endpoint(name)
		if !ok || got != rel {
			t.Errorf("Endpoint(%q) = %+v, %v; want %+v", name, got, ok, rel)
		}
	}
	info, ok := m.Endpoint("juju-info")
	if !ok || info != (Relation{Name: "juju-info", Interface: "juju-info", Role: RoleProvider, Scope: ScopeGlobal}) {
		t.Errorf("implicit juju-info = %+v, %v", info, ok)
	}
	if _, ok := m.Endpoint("nope"); ok {
		t.Error("Endpoint(nope) found something")
	}
	var names []string
	for _, ep := range m.Endpoints() {
		names = append(names, ep.Name)
	}
	if want := []string{"admin", "cache", "db", "juju-info", "ring", "web"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Endpoints names = %v, want %v", names, want)
	}
	if m.Format != FormatV1 {
		t.Errorf("Format = %v, want v1", m.Format)
	}
}

func TestSubordinateJujuInfo(t *testing.T) {
	m, err := ParseMeta([]byte("name: sub\nsubordinate: true\nrequires:\n  juju-info: {interface: juju-info, scope: container}\n"))
	if err != nil {
		t.Fatal(err)
	}
	eps := m.Endpoints()
	if len(eps) != 2 || eps[0].Role != RoleProvider || eps[1].Role != RoleRequirer || eps[0].Name != "juju-info" || eps[1].Name != "juju-info" {
		t.Errorf("Endpoints = %+v, want the implicit provider and the declared requirer", eps)
	}
	if got, _ := m.Endpoint("juju-info"); got.Role != RoleRequirer {
		t.Errorf("Endpoint(juju-info) = %+v, want the declared requirer", got)
	}
}

func TestReservedNamesAllowedForJujuCharms(t *testing.T) {
	if _, err := ParseMeta([]byte("name: juju-helper\nprovides:\n  juju-x: juju-y\n")); err != nil {
		t.Errorf("a juju- charm may use reserved names: %v", err)
	}
}

func TestParseMetaV2(t *testing.T) {
	m, err := ParseMeta([]byte(`
name: k
assumes: [juju >= 3.1, {any-of: [k8s-api, lxd]}]
charm-user: sudoer
resources:
  img: {type: oci-image}
storage:
  data: {type: filesystem, multiple: {range: 2-}, minimum-size: 1.5G, shared: true, read-only: true, properties: [transient]}
  raw: {type: block, multiple: {range: "3"}, minimum-size: 100}
  many: {type: block, multiple: {range: 1+}}
containers:
  app:
    resource: img
    uid: 0
    gid: 10000
    mounts: [{storage: data, location: /data}]
  bare:
extra-bindings:
  public:
  private: ~
unknown-key: whatever
`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != FormatV2 || m.CharmUser != "sudoer" || len(m.Assumes) != 2 {
		t.Errorf("format/charm-user/assumes = %v %q %v", m.Format, m.CharmUser, m.Assumes)
	}
	wantData := Storage{Name: "data", Type: StorageFilesystem, Shared: true, ReadOnly: true, CountMin: 2, CountMax: -1, MinimumSize: 1536, Properties: []string{"transient"}}
	if !reflect.DeepEqual(m.Storage["data"], wantData) {
		t.Errorf("storage data = %+v, want %+v", m.Storage["data"], wantData)
	}
	if s := m.Storage["raw"]; s.CountMin != 3 || s.CountMax != 3 || s.MinimumSize != 100 {
		t.Errorf("storage raw = %+v", s)
	}
	if s := m.Storage["many"]; s.CountMin != 1 || s.CountMax != -1 {
		t.Errorf("storage many = %+v", s)
	}
	app := m.Containers["app"]
	if app.Resource != "img" || app.UID == nil || *app.UID != 0 || app.GID == nil || *app.GID != 10000 ||
		!reflect.DeepEqual(app.Mounts, []Mount{{Storage: "data", Location: "/data"}}) {
		t.Errorf("container app = %+v", app)
	}
	if bare, ok := m.Containers["bare"]; !ok || bare.UID != nil || bare.Resource != "" {
		t.Errorf("container bare = %+v, %v", bare, ok)
	}
	if !reflect.DeepEqual(m.ExtraBindings, []string{"private", "public"}) {
		t.Errorf("extra bindings = %v", m.ExtraBindings)
	}
	if r := m.Resources["img"]; r.Type != ResourceOCIImage {
		t.Errorf("resource = %+v", r)
	}
}

func TestParseMetaEmptyAndMerge(t *testing.T) {
	if _, err := ParseMeta(nil); err == nil || !strings.Contains(err.Error(), "no charm name") {
		t.Errorf("empty metadata: %v", err)
	}
	m, err := ParseMeta([]byte("base: &b {interface: http, limit: 3}\nname: a\nprovides:\n  web:\n    <<: *b\n    limit: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if web := m.Provides["web"]; web.Interface != "http" || web.Limit != 1 {
		t.Errorf("merged endpoint = %+v", web)
	}
}

func TestValidCharmName(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "mysql": true, "my-sql": true, "a1": true, "a-b2c": true, "a-1b": true,
		"": false, "A": false, "1a": false, "a-1": false, "a--b": false, "a_b": false, "a-": false,
	} {
		if got := ValidCharmName(name); got != want {
			t.Errorf("ValidCharmName(%q) = %v, want %v", name, got, want)
		}
	}
}
