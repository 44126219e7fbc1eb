package entity

import (
	"sort"
	"strconv"
	"strings"
)

// Relation roles, as in metadata.yaml.
const (
	RoleProvider = "provider"
	RoleRequirer = "requirer"
	RolePeer     = "peer"
)

// Relation scopes.
const (
	ScopeGlobal    = "global"
	ScopeContainer = "container"
)

// Endpoint is one side of a relation: an application's endpoint as its
// charm declares it.
type Endpoint struct {
	Application string `json:"application"`
	Name        string `json:"name"`
	Interface   string `json:"interface"`
	Role        string `json:"role"`
	Scope       string `json:"scope,omitempty"`
	Limit       int    `json:"limit,omitempty"`
}

// String renders "app:endpoint".
func (e Endpoint) String() string { return e.Application + ":" + e.Name }

// Relation is a relation document. It is written only by the relation's
// actor (actors/relation), which also owns the relation's unit and
// application data bags (RelationUnit, RelationApp).
//
//	alive ──remove-relation / app removed──▶ dying ──last unit left scope──▶ removed
type Relation struct {
	ID int `json:"id"`
	// Key is the canonical "app:ep app:ep" (see RelationKeyOf).
	Key       string     `json:"key"`
	Endpoints []Endpoint `json:"endpoints"`
	Life      Life       `json:"life"`
	Suspended bool       `json:"suspended,omitempty"`
	// Remote is set on a cross-model relation: its other end is an
	// offered application of another model (see cmr.go).
	Remote *RemoteRelation `json:"remote,omitempty"`
}

// IsPeer reports whether r is a peer relation (a single endpoint).
func (r *Relation) IsPeer() bool { return len(r.Endpoints) == 1 }

// Endpoint returns the endpoint of app, if app is in r.
func (r *Relation) Endpoint(app string) (Endpoint, bool) {
	for _, e := range r.Endpoints {
		if e.Application == app {
			return e, true
		}
	}
	return Endpoint{}, false
}

// RemoteApp returns the application on the other side from app (app
// itself for a peer relation).
func (r *Relation) RemoteApp(app string) string {
	for _, e := range r.Endpoints {
		if e.Application != app {
			return e.Application
		}
	}
	return app
}

// roleOrder puts the requirer first, as Juju's relation keys do
// ("wordpress:db mysql:server").
var roleOrder = map[string]int{RoleRequirer: 0, RoleProvider: 1, RolePeer: 2}

// RelationKeyOf builds the canonical key of a relation over eps: the
// endpoints sorted by role (requirer, provider, peer) then application,
// space-joined.
func RelationKeyOf(eps []Endpoint) string {
	s := append([]Endpoint(nil), eps...)
	sort.Slice(s, func(i, j int) bool {
		if s[i].Role != s[j].Role {
			return roleOrder[s[i].Role] < roleOrder[s[j].Role]
		}
		return s[i].Application < s[j].Application
	})
	parts := make([]string, len(s))
	for i, e := range s {
		parts[i] = e.String()
	}
	return strings.Join(parts, " ")
}

// RelationUnit is one unit's membership of a relation and its data bag.
// The document exists from the moment the unit first enters scope; it
// stays (out of scope) after the unit leaves, so remote units can still
// read the departed unit's settings, and goes with the relation.
type RelationUnit struct {
	Relation int               `json:"relation"`
	Unit     string            `json:"unit"`
	InScope  bool              `json:"in-scope"`
	Settings map[string]string `json:"settings,omitempty"`
	// Version increases on every change of Settings.
	Version int64 `json:"version"`
}

// RelationApp is an application's data bag in a relation, written only
// by the application's leader.
type RelationApp struct {
	Relation    int               `json:"relation"`
	Application string            `json:"application"`
	Settings    map[string]string `json:"settings,omitempty"`
	// Version increases on every change of Settings; 0 means never written.
	Version int64 `json:"version"`
}

// RelationsPrefix holds every Relation document of a model.
func RelationsPrefix(model string) string { return ModelPrefix(model) + "relation/" }

// RelationKey is the key of a Relation.
func RelationKey(model string, id int) string { return RelationsPrefix(model) + strconv.Itoa(id) }

// RelationUnitsPrefix holds every RelationUnit of one relation.
func RelationUnitsPrefix(model string, id int) string {
	return ModelPrefix(model) + "relation-unit/" + strconv.Itoa(id) + "/"
}

// RelationUnitKey is the key of a RelationUnit.
func RelationUnitKey(model string, id int, unit string) string {
	return RelationUnitsPrefix(model, id) + unit
}

// RelationAppsPrefix holds every RelationApp of one relation.
func RelationAppsPrefix(model string, id int) string {
	return ModelPrefix(model) + "relation-app/" + strconv.Itoa(id) + "/"
}

// RelationAppKey is the key of a RelationApp.
func RelationAppKey(model string, id int, app string) string {
	return RelationAppsPrefix(model, id) + app
}

// RelationIndexKey maps a relation's canonical key to its id, so one
// relation over the same endpoints can exist only once.
func RelationIndexKey(model, key string) string {
	return ModelPrefix(model) + "relation-key/" + key
}
