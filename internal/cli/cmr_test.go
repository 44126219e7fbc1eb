package cli

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/fullstatus"
)

// TestOfferArgvForms pins the first argument of `offer` in every form
// jubilant builds ([user/]model.app:ep[,ep]) and the bare app:ep of the
// current model.
func TestOfferArgvForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want OfferTarget
	}{
		{"mymodel.mysql:db", OfferTarget{Model: "mymodel", Application: "mysql", Endpoints: []string{"db"}}},
		{"admin/mymodel.mysql:db,admin", OfferTarget{Owner: "admin", Model: "mymodel", Application: "mysql", Endpoints: []string{"db", "admin"}}},
		{"mysql:db", OfferTarget{Application: "mysql", Endpoints: []string{"db"}}},
		{"jubilant-1a2b3c4d.testdb:db", OfferTarget{Model: "jubilant-1a2b3c4d", Application: "testdb", Endpoints: []string{"db"}}},
	} {
		got, err := ParseOfferTarget(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseOfferTarget(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []struct{ in, phrase string }{
		{"mymodel.mysql", "name the endpoints"},
		{"mymodel.mysql:", "name the endpoints"},
		{"mymodel.mysql:db,", "invalid endpoint"},
		{"ctrl:m.mysql:db", "invalid"},
		{"Bad.mysql:db", "invalid model name"},
		{"m.My_App:db", "invalid application name"},
	} {
		if _, err := ParseOfferTarget(bad.in); err == nil || !strings.Contains(err.Error(), bad.phrase) {
			t.Errorf("ParseOfferTarget(%q) = %v; want an error mentioning %q", bad.in, err, bad.phrase)
		}
	}
}

// TestConsumeURLForms pins `consume`'s [ctrl:][owner/]model.offer.
func TestConsumeURLForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want OfferURL
	}{
		{"m.mysql", OfferURL{Model: "m", Name: "mysql"}},
		{"admin/m.mysql", OfferURL{Owner: "admin", Model: "m", Name: "mysql"}},
		{"ctrl:m.mysql", OfferURL{Controller: "ctrl", Model: "m", Name: "mysql"}},
		{"ctrl:admin/m.mysql", OfferURL{Controller: "ctrl", Owner: "admin", Model: "m", Name: "mysql"}},
	} {
		got, err := ParseOfferURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseOfferURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"mysql", "m.", ".mysql", "m.My", "c:u/.x"} {
		if _, err := ParseOfferURL(bad); err == nil || !strings.Contains(err.Error(), "invalid offer URL") {
			t.Errorf("ParseOfferURL(%q) = %v; want an invalid offer URL error", bad, err)
		}
	}
}

// TestCMRArgvRejectedBeforeConnecting: bad argv of the cross-model
// commands exits 2 with one ERROR line and nothing on stdout.
func TestCMRArgvRejectedBeforeConnecting(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		phrase string
	}{
		{[]string{"offer"}, "offer needs"},
		{[]string{"offer", "m.app"}, "name the endpoints"},
		{[]string{"offer", "m.app:db", "Bad_Name"}, "invalid offer name"},
		{[]string{"offer", "m.app:db", "a", "b"}, "offer needs"},
		{[]string{"consume"}, "consume needs"},
		{[]string{"consume", "--model", "m", "nodot"}, "invalid offer URL"},
		{[]string{"consume", "m.app", "Bad_Alias"}, "invalid alias"},
		{[]string{"offers", "a", "b"}, "at most one"},
		{[]string{"offers", "--format", "xml", "--bogus"}, "bogus"},
		{[]string{"find-offers", "x"}, "takes no arguments"},
		{[]string{"remove-offer"}, "at least one"},
		{[]string{"remove-saas", "--no-prompt"}, "at least one"},
	} {
		code, stdout, stderr := run(t, tc.args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "ERROR ") || !strings.Contains(stderr, tc.phrase) {
			t.Errorf("%q: exit %d stdout %q stderr %q; want exit 2 and %q", tc.args, code, stdout, stderr, tc.phrase)
		}
	}
	// Well-formed argv gets as far as needing a controller: exit 1.
	for _, args := range [][]string{{"offer", "admin/m.app:db,other", "name", "--controller", "c"},
		{"consume", "--model", "ctrl:admin/b", "ctrl:admin/m.app", "alias"}, {"offers", "--model", "m", "--format", "json"},
		{"find-offers", "--format", "json"}, {"remove-offer", "--force", "admin/m.app"}, {"remove-saas", "-m", "b", "alias"}} {
		if code, _, stderr := run(t, args...); code != 1 || !strings.Contains(stderr, "troupe bootstrap") {
			t.Errorf("%q: exit %d stderr %q; want exit 1 asking for a controller", args, code, stderr)
		}
	}
}

func decodeJSON(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, data)
	}
	return v
}

// TestOffersJSONShape pins `offers --format json` and `find-offers
// --format json` key for key (Juju's names; endpoints a map, never
// null; connections absent when none; relation-id a number).
func TestOffersJSONShape(t *testing.T) {
	offers := []*apipb.OfferInfo{
		{Name: "kv", Url: "c:admin/prov.kv", Application: "kvstore", Charm: "local:kvstore-0", Owner: "admin",
			Endpoints: []*apipb.RelationEndpoint{{Name: "db", Interface: "kv", Role: "provider"}}, ActiveConnectedCount: 1, TotalConnectedCount: 1,
			Connections: []*apipb.OfferConnection{{SourceModel: "admin/cons", Username: "admin", RelationId: 3, Endpoint: "db", Status: "joined"}}},
		{Name: "idle", Url: "c:admin/prov.idle", Application: "other", Owner: "admin"},
	}
	var buf bytes.Buffer
	if err := writeDoc(&buf, "json", BuildOffers("c", offers), nil); err != nil {
		t.Fatal(err)
	}
	got := decodeJSON(t, buf.Bytes())
	want := map[string]any{
		"kv": map[string]any{"application": "kvstore", "store": "c", "charm": "local:kvstore-0", "offer-url": "admin/prov.kv",
			"endpoints": map[string]any{"db": map[string]any{"interface": "kv", "role": "provider"}},
			"connections": []any{map[string]any{"source-model": "admin/cons", "username": "admin", "relation-id": float64(3),
				"endpoint": "db", "status": map[string]any{"current": "joined"}}},
			"users": map[string]any{"admin": map[string]any{"access": "admin"}}},
		"idle": map[string]any{"application": "other", "store": "c", "offer-url": "admin/prov.idle", "endpoints": map[string]any{},
			"users": map[string]any{"admin": map[string]any{"access": "admin"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("offers --format json:\n got %v\nwant %v", got, want)
	}
	buf.Reset()
	if err := writeDoc(&buf, "json", BuildFoundOffers("c", offers), nil); err != nil {
		t.Fatal(err)
	}
	found := decodeJSON(t, buf.Bytes())
	if kv, _ := found["admin/prov.kv"].(map[string]any); kv == nil || kv["access"] != "admin" ||
		!reflect.DeepEqual(kv["endpoints"], want["kv"].(map[string]any)["endpoints"]) {
		t.Errorf("find-offers --format json = %v", found)
	}
	if idle, _ := found["admin/prov.idle"].(map[string]any); idle == nil || !reflect.DeepEqual(idle["endpoints"], map[string]any{}) {
		t.Errorf("find-offers: an offer without endpoints must print endpoints {}: %v", found)
	}
	buf.Reset()
	if err := writeDoc(&buf, "json", BuildOffers("c", nil), nil); err != nil || strings.TrimSpace(buf.String()) != "{}" {
		t.Errorf("no offers: %q, %v; want {}", buf.String(), err)
	}
	buf.Reset()
	if err := writeOffersTable(&buf, BuildOffers("c", offers)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "Offer User Relation ID Status Endpoint Interface Role Ingress subnets" ||
		strings.Join(strings.Fields(lines[1]), " ") != "idle -" || strings.Join(strings.Fields(lines[2]), " ") != "kv admin 3 joined db kv provider" {
		t.Errorf("offers tabular:\n%s", buf.String())
	}
}

// TestStatusCrossModelShape pins status' `offers` and
// `application-endpoints` (cli-contract §5.1): required keys present,
// counts numbers, RemoteApp relations lists of application names, and
// both keys absent (never null) in a model without them.
func TestStatusCrossModelShape(t *testing.T) {
	res := &apipb.StatusResult{Model: &apipb.ModelInfo{Name: "cons"}, ControllerName: "c", Version: "3.6.11",
		Applications: []*apipb.ApplicationStatus{{Name: "kvclient", CharmName: "kvclient", CharmUrl: "local:kvclient-0", Life: "alive"}},
		Relations: []*apipb.RelationStatus{{Id: 1, Interface: "kv", Life: "alive", Endpoints: []*apipb.RelationEndpoint{
			{Application: "kvclient", Name: "db", Role: "requirer", Interface: "kv", Scope: "global"},
			{Application: "kvs", Name: "db", Role: "provider", Interface: "kv", Scope: "global"}}}},
		Offers: []*apipb.OfferInfo{{Name: "client", Application: "kvclient", Charm: "local:kvclient-0", ActiveConnectedCount: 2, TotalConnectedCount: 3,
			Endpoints: []*apipb.RelationEndpoint{{Name: "db", Interface: "kv", Role: "requirer"}}}},
		RemoteApplications: []*apipb.RemoteApplicationStatus{{Name: "kvs", Url: "c:admin/prov.kvstore", Life: "alive",
			Status:    &apipb.StatusInfo{Current: "active", Message: "serving"},
			Endpoints: []*apipb.RelationEndpoint{{Name: "db", Interface: "kv", Role: "provider"}}}},
	}
	var buf bytes.Buffer
	if err := fullstatus.WriteJSON(&buf, buildStatus(res)); err != nil {
		t.Fatal(err)
	}
	doc := decodeJSON(t, buf.Bytes())
	wantOffers := map[string]any{"client": map[string]any{"application": "kvclient", "charm": "local:kvclient-0",
		"active-connected-count": float64(2), "total-connected-count": float64(3),
		"endpoints": map[string]any{"db": map[string]any{"interface": "kv", "role": "requirer"}}}}
	if !reflect.DeepEqual(doc["offers"], wantOffers) {
		t.Errorf("offers:\n got %v\nwant %v", doc["offers"], wantOffers)
	}
	wantSaas := map[string]any{"kvs": map[string]any{"url": "c:admin/prov.kvstore",
		"endpoints":          map[string]any{"db": map[string]any{"interface": "kv", "role": "provider"}},
		"application-status": map[string]any{"current": "active", "message": "serving"},
		"relations":          map[string]any{"db": []any{"kvclient"}}}}
	if !reflect.DeepEqual(doc["application-endpoints"], wantSaas) {
		t.Errorf("application-endpoints:\n got %v\nwant %v", doc["application-endpoints"], wantSaas)
	}
	rel := doc["applications"].(map[string]any)["kvclient"].(map[string]any)["relations"]
	if !reflect.DeepEqual(rel, map[string]any{"db": []any{map[string]any{"related-application": "kvs", "interface": "kv", "scope": "global"}}}) {
		t.Errorf("kvclient relations = %v, want db related to kvs", rel)
	}
	res.Offers, res.RemoteApplications, res.Relations = nil, nil, nil
	buf.Reset()
	if err := fullstatus.WriteJSON(&buf, buildStatus(res)); err != nil {
		t.Fatal(err)
	}
	doc = decodeJSON(t, buf.Bytes())
	for _, k := range []string{"offers", "application-endpoints"} {
		if _, ok := doc[k]; ok {
			t.Errorf("a model without %s must leave the key out: %s", k, buf.String())
		}
	}
}

func TestSplitIntegrateURL(t *testing.T) {
	for _, tc := range []struct {
		in     string
		ok     bool
		url    OfferURL
		ep     string
		failed bool
	}{
		{in: "mysql"}, {in: "mysql:db"},
		{in: "prov.kvstore", ok: true, url: OfferURL{Model: "prov", Name: "kvstore"}},
		{in: "admin/prov.kvstore:db", ok: true, url: OfferURL{Owner: "admin", Model: "prov", Name: "kvstore"}, ep: "db"},
		{in: "prov.:db", ok: true, failed: true},
	} {
		u, ep, ok, err := SplitIntegrateURL(tc.in)
		if ok != tc.ok || (err != nil) != tc.failed || (!tc.failed && (u != tc.url || ep != tc.ep)) {
			t.Errorf("SplitIntegrateURL(%q) = %+v %q %v %v; want %+v %q %v failed=%v", tc.in, u, ep, ok, err, tc.url, tc.ep, tc.ok, tc.failed)
		}
	}
}

func TestRemoveOfferTarget(t *testing.T) {
	cc := ClientConfig{Controller: "local"}
	for _, c := range []struct {
		arg, wantModel, wantName, wantErr string
	}{
		{"kvstore", "dev", "kvstore", ""},
		{"prov.kvstore", "prov", "kvstore", ""},
		{"admin/prov.kvstore", "prov", "kvstore", ""},
		{"local:admin/prov.kvstore", "prov", "kvstore", ""},
		{"other:admin/prov.kvstore", "", "", `controller "other" not found`},
		{"bob/prov.kvstore", "", "", `owner "bob" not found`},
		{"prov.", "", "", "invalid"},
	} {
		u, err := removeOfferTarget(cc, "dev", c.arg)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: err %v, want %q", c.arg, err, c.wantErr)
			}
		case err != nil:
			t.Errorf("%q: %v", c.arg, err)
		case u.Model != c.wantModel || u.Name != c.wantName:
			t.Errorf("%q: got %s.%s, want %s.%s", c.arg, u.Model, u.Name, c.wantModel, c.wantName)
		}
	}
}
