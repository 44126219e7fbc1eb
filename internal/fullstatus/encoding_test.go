package fullstatus

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// sparseDoc leaves every collection nil, including the required nested
// ones, and sets optional ones to empty non-nil values.
func sparseDoc() *Status {
	return &Status{
		Model: ModelStatus{Name: "m", Type: "iaas", Controller: "c", Cloud: "localhost", Version: "3.6.11"},
		Machines: map[string]Machine{
			"0": {
				IPAddresses:       []string{},
				NetworkInterfaces: map[string]NetworkInterface{"eth0": {MACAddress: "00:00:00:00:00:01"}},
				Containers:        map[string]Machine{},
				LXDProfiles:       map[string]LXDProfile{"p": {Devices: map[string]map[string]string{"d": nil}}},
			},
		},
		Applications: map[string]Application{
			"a": {
				Relations:        map[string][]RelatedApp{},
				SubordinateTo:    []string{},
				Units:            map[string]Unit{"a/0": {OpenPorts: []string{}, Subordinates: map[string]Unit{}}},
				EndpointBindings: map[string]string{},
			},
		},
		ApplicationEndpoints: map[string]RemoteApp{"r": {URL: "admin/m.r"}},
		Offers:               map[string]Offer{"o": {Application: "a"}},
		Storage: &Storage{
			Storage: map[string]StorageInstance{"s/0": {Kind: "block", Attachments: &StorageAttachments{}}},
			Volumes: map[string]Volume{"0": {Attachments: &VolumeAttachments{}}},
		},
	}
}

// findNull returns the path of the first null in a decoded JSON value.
func findNull(v any, path string) (string, bool) {
	switch v := v.(type) {
	case nil:
		return path, true
	case map[string]any:
		for k, e := range v {
			if p, ok := findNull(e, path+"."+k); ok {
				return p, true
			}
		}
	case []any:
		for i, e := range v {
			if p, ok := findNull(e, path+"["+string(rune('0'+i))+"]"); ok {
				return p, true
			}
		}
	}
	return "", false
}

func decodeJSON(t *testing.T, s *Status) map[string]any {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b.Bytes(), []byte("\n")) != 1 || !bytes.HasSuffix(b.Bytes(), []byte("}\n")) {
		t.Fatalf("WriteJSON did not write one line: %q", b.String())
	}
	var out map[string]any
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNoNulls(t *testing.T) {
	docs := map[string]*Status{"full": fullDoc(), "empty": emptyDoc(), "caas": caasDoc(), "sparse": sparseDoc(), "zero": {}}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			got := decodeJSON(t, doc)
			if p, ok := findNull(got, ""); ok {
				t.Errorf("null at %s", p)
			}
			var y bytes.Buffer
			if err := WriteYAML(&y, doc); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(y.String(), "null") || strings.Contains(y.String(), ": ~") {
				t.Errorf("YAML holds a null:\n%s", y.String())
			}
		})
	}
}

func TestRequiredAndOptionalKeys(t *testing.T) {
	got := decodeJSON(t, sparseDoc())
	dig := func(path ...string) (any, bool) {
		var v any = got
		for _, k := range path {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		}
		return v, true
	}
	required := []struct {
		path []string
		want any
	}{
		{[]string{"machines", "0", "network-interfaces", "eth0", "ip-addresses"}, []any{}},
		{[]string{"machines", "0", "network-interfaces", "eth0", "is-up"}, false},
		{[]string{"machines", "0", "lxd-profiles", "p", "config"}, map[string]any{}},
		{[]string{"machines", "0", "lxd-profiles", "p", "description"}, ""},
		{[]string{"machines", "0", "lxd-profiles", "p", "devices", "d"}, map[string]any{}},
		{[]string{"applications", "a", "charm"}, ""},
		{[]string{"applications", "a", "charm-origin"}, ""},
		{[]string{"applications", "a", "charm-name"}, ""},
		{[]string{"applications", "a", "charm-rev"}, float64(0)},
		{[]string{"applications", "a", "exposed"}, false},
		{[]string{"application-endpoints", "r", "url"}, "admin/m.r"},
		{[]string{"offers", "o", "endpoints"}, map[string]any{}},
		{[]string{"storage", "storage", "s/0", "attachments", "units"}, map[string]any{}},
		{[]string{"storage", "storage", "s/0", "persistent"}, false},
		{[]string{"storage", "storage", "s/0", "status"}, map[string]any{}},
		{[]string{"storage", "volumes", "0", "size"}, float64(0)},
	}
	for _, r := range required {
		v, ok := dig(r.path...)
		if !ok || !reflect.DeepEqual(v, r.want) {
			t.Errorf("%s = %#v (present %v), want %#v", strings.Join(r.path, "."), v, ok, r.want)
		}
	}
	absent := [][]string{
		{"machines", "0", "ip-addresses"},
		{"machines", "0", "containers"},
		{"applications", "a", "relations"},
		{"applications", "a", "subordinate-to"},
		{"applications", "a", "endpoint-bindings"},
		{"applications", "a", "application-status"},
		{"applications", "a", "scale"},
		{"applications", "a", "units", "a/0", "open-ports"},
		{"applications", "a", "units", "a/0", "subordinates"},
		{"applications", "a", "units", "a/0", "leader"},
		{"application-endpoints", "r", "endpoints"},
		{"application-endpoints", "r", "relations"},
		{"storage", "volumes", "0", "attachments", "machines"},
		{"storage", "filesystems"},
		{"controller"},
	}
	for _, p := range absent {
		if v, ok := dig(p...); ok {
			t.Errorf("%s present (%#v), want it omitted", strings.Join(p, "."), v)
		}
	}
}

func TestEmptyModelDocument(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, emptyDoc()); err != nil {
		t.Fatal(err)
	}
	want := `{"model":{"name":"m","type":"iaas","controller":"c","cloud":"localhost","version":"3.6.11"},"machines":{},"applications":{}}` + "\n"
	if b.String() != want {
		t.Errorf("WriteJSON(empty) = %s, want %s", b.String(), want)
	}
	// A zero Status still carries every required key.
	got := decodeJSON(t, &Status{})
	for _, k := range []string{"model", "machines", "applications"} {
		if _, ok := got[k]; !ok {
			t.Errorf("key %q missing from a zero Status", k)
		}
	}
	model := got["model"].(map[string]any)
	for _, k := range []string{"name", "type", "controller", "cloud", "version"} {
		if _, ok := model[k]; !ok {
			t.Errorf("model key %q missing from a zero Status", k)
		}
	}
}

func TestIntsAreNumbers(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, fullDoc()); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&b)
	dec.UseNumber()
	var doc struct {
		Applications map[string]map[string]any `json:"applications"`
		Offers       map[string]map[string]any `json:"offers"`
		Storage      struct {
			Filesystems map[string]map[string]any `json:"filesystems"`
		} `json:"storage"`
	}
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		v    any
		want string
	}{
		{"postgresql charm-rev", doc.Applications["postgresql"]["charm-rev"], "468"},
		{"wordpress charm-rev", doc.Applications["wordpress"]["charm-rev"], "0"},
		{"offer total-connected-count", doc.Offers["pg"]["total-connected-count"], "2"},
		{"offer active-connected-count", doc.Offers["pg"]["active-connected-count"], "1"},
		{"filesystem size", doc.Storage.Filesystems["0/0"]["size"], "10240"},
	}
	for _, c := range checks {
		n, ok := c.v.(json.Number)
		if !ok || n.String() != c.want {
			t.Errorf("%s = %#v (%T), want JSON number %s", c.name, c.v, c.v, c.want)
		}
	}
	caas := decodeJSON(t, caasDoc())
	if scale := caas["applications"].(map[string]any)["mysql-k8s"].(map[string]any)["scale"]; scale != float64(3) {
		t.Errorf("scale = %#v, want number 3", scale)
	}
}

func TestStatusErrorStandIn(t *testing.T) {
	doc := emptyDoc()
	doc.Model.ModelStatus = &StatusInfo{Current: "available", StatusError: "model gone"}
	doc.Applications = map[string]Application{"a": {Charm: "x", CharmRev: 3, StatusError: "app gone"}}
	doc.Machines = map[string]Machine{"0": {DNSName: "1.2.3.4", StatusError: "machine gone"}}
	doc.Offers = map[string]Offer{"o": {Application: "a", StatusError: "offer gone"}}
	doc.ApplicationEndpoints = map[string]RemoteApp{"r": {URL: "u", StatusError: "saas gone"}}
	doc.Applications["b"] = Application{Units: map[string]Unit{"b/0": {Machine: "0", StatusError: "unit gone"}}}
	got := decodeJSON(t, doc)
	want := map[string]any{
		"model": map[string]any{
			"name": "m", "type": "iaas", "controller": "c", "cloud": "localhost", "version": "3.6.11",
			"model-status": map[string]any{"status-error": "model gone"},
		},
		"machines": map[string]any{"0": map[string]any{"status-error": "machine gone"}},
		"applications": map[string]any{
			"a": map[string]any{"status-error": "app gone"},
			"b": map[string]any{
				"charm": "", "charm-origin": "", "charm-name": "", "charm-rev": float64(0), "exposed": false,
				"units": map[string]any{"b/0": map[string]any{"status-error": "unit gone"}},
			},
		},
		"offers":                map[string]any{"o": map[string]any{"status-error": "offer gone"}},
		"application-endpoints": map[string]any{"r": map[string]any{"status-error": "saas gone"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON =\n%#v\nwant\n%#v", got, want)
	}
	if y := yamlAsJSON(t, doc); !reflect.DeepEqual(y, want) {
		t.Errorf("YAML =\n%#v\nwant\n%#v", y, want)
	}
}

// yamlAsJSON writes doc as YAML, reads it back generically and converts it
// to what the same data looks like after a JSON round trip.
func yamlAsJSON(t *testing.T, doc *Status) map[string]any {
	t.Helper()
	var y bytes.Buffer
	if err := WriteYAML(&y, doc); err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := yaml.Unmarshal(y.Bytes(), &generic); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(generic)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(j, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJSONAndYAMLAgree checks that both encodings carry the same keys and
// values.
func TestJSONAndYAMLAgree(t *testing.T) {
	for name, doc := range map[string]*Status{"full": fullDoc(), "empty": emptyDoc(), "caas": caasDoc(), "sparse": sparseDoc()} {
		t.Run(name, func(t *testing.T) {
			j, y := decodeJSON(t, doc), yamlAsJSON(t, doc)
			if !reflect.DeepEqual(j, y) {
				t.Errorf("JSON and YAML differ\njson: %#v\nyaml: %#v", j, y)
			}
		})
	}
}

// TestJSONRoundTrip decodes the encoded document back into a Status and
// checks nothing is lost (Integrations is tabular-only and not encoded).
func TestJSONRoundTrip(t *testing.T) {
	want := fullDoc()
	want.Integrations = nil
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got Status
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("round trip changed the document\ngot:  %+v\nwant: %+v", got, *want)
	}
	var y bytes.Buffer
	if err := WriteYAML(&y, want); err != nil {
		t.Fatal(err)
	}
	var fromYAML Status
	if err := yaml.Unmarshal(y.Bytes(), &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&fromYAML, want) {
		t.Errorf("YAML round trip changed the document\ngot:  %+v\nwant: %+v", fromYAML, *want)
	}
}

// TestTagsAgree walks every type of the document and checks that each
// field's json and yaml tags name the same key with the same omitempty.
func TestTagsAgree(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Map || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			j, y := f.Tag.Get("json"), f.Tag.Get("yaml")
			if j == "" || j != y {
				t.Errorf("%s.%s: json tag %q, yaml tag %q", typ.Name(), f.Name, j, y)
			}
			name, _, _ := strings.Cut(j, ",")
			if name != "-" && (name == "" || name != strings.ToLower(name) || strings.Contains(name, "_")) {
				t.Errorf("%s.%s: key %q is not kebab-case", typ.Name(), f.Name, name)
			}
			if name != "-" {
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeOf(Status{}))
	if len(seen) < 20 {
		t.Errorf("walked only %d types; the walk is broken", len(seen))
	}
}
