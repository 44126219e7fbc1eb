package relation

import (
	"fmt"
	"sort"
	"strings"

	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
)

// Side is one argument of `troupe integrate`: an application, its charm
// metadata and optionally the endpoint the user named.
type Side struct {
	App      string
	Meta     *charm.Meta
	Endpoint string // "" when the user named only the application
}

// ParseSide splits "app" or "app:endpoint".
func ParseSide(s string) (app, endpoint string, err error) {
	app, endpoint, _ = strings.Cut(s, ":")
	if !entity.ValidApplicationName(app) || (strings.Contains(s, ":") && endpoint == "") {
		return "", "", fmt.Errorf("invalid endpoint %q: expected <application> or <application>:<endpoint>", s)
	}
	return app, endpoint, nil
}

func endpointOf(app string, r charm.Relation) entity.Endpoint {
	scope := string(r.Scope)
	if scope == "" {
		scope = entity.ScopeGlobal
	}
	return entity.Endpoint{Application: app, Name: r.Name, Interface: r.Interface, Role: string(r.Role), Scope: scope, Limit: r.Limit}
}

func counterpart(a, b charm.Role) bool {
	return (a == charm.RoleProvider && b == charm.RoleRequirer) || (a == charm.RoleRequirer && b == charm.RoleProvider)
}

// Match finds the one pair of endpoints that `troupe integrate a b`
// means: same interface, provider against requirer, restricted to the
// named endpoints. The implicit juju-info endpoint is considered only when
// no declared endpoint matches, as in Juju. Zero or several candidates
// are errors that say what to type instead. It is pure.
func Match(a, b Side) ([2]entity.Endpoint, error) {
	var none [2]entity.Endpoint
	if a.App == b.App {
		return none, fmt.Errorf("cannot relate application %q to itself; peer relations are created at deploy", a.App)
	}
	for _, s := range []Side{a, b} {
		if s.Endpoint != "" {
			if _, ok := s.Meta.Endpoint(s.Endpoint); !ok {
				return none, fmt.Errorf("application %q has no %q endpoint; see its charm's metadata.yaml", s.App, s.Endpoint)
			}
		}
	}
	type pair struct{ x, y charm.Relation }
	var explicit, implicit []pair
	for _, x := range a.Meta.Endpoints() {
		if a.Endpoint != "" && x.Name != a.Endpoint {
			continue
		}
		for _, y := range b.Meta.Endpoints() {
			if b.Endpoint != "" && y.Name != b.Endpoint {
				continue
			}
			if x.Interface != y.Interface || !counterpart(x.Role, y.Role) {
				continue
			}
			if x.Name == charm.ImplicitEndpoint && x.Role == charm.RoleProvider ||
				y.Name == charm.ImplicitEndpoint && y.Role == charm.RoleProvider {
				implicit = append(implicit, pair{x, y})
				continue
			}
			explicit = append(explicit, pair{x, y})
		}
	}
	cands := explicit
	if len(cands) == 0 {
		cands = implicit
	}
	switch len(cands) {
	case 0:
		return none, fmt.Errorf("no relations found between %q and %q: no endpoints with a common interface and opposite roles", sideString(a), sideString(b))
	case 1:
		eps := [2]entity.Endpoint{endpointOf(a.App, cands[0].x), endpointOf(b.App, cands[0].y)}
		// One container-scoped side makes the whole relation container
		// scoped, as in Juju: only co-located units see each other.
		if eps[0].Scope == entity.ScopeContainer || eps[1].Scope == entity.ScopeContainer {
			eps[0].Scope, eps[1].Scope = entity.ScopeContainer, entity.ScopeContainer
		}
		return eps, nil
	}
	opts := make([]string, len(cands))
	for i, c := range cands {
		opts[i] = fmt.Sprintf("%q", a.App+":"+c.x.Name+" "+b.App+":"+c.y.Name)
	}
	sort.Strings(opts)
	return none, fmt.Errorf("ambiguous relation: %q could refer to %s; name the endpoints, e.g. `troupe integrate %s:%s %s:%s`",
		sideString(a)+" "+sideString(b), strings.Join(opts, "; "), a.App, cands[0].x.Name, b.App, cands[0].y.Name)
}

func sideString(s Side) string {
	if s.Endpoint == "" {
		return s.App
	}
	return s.App + ":" + s.Endpoint
}

// Peers returns the peer endpoints of app's charm, sorted by name: one
// relation each is created with the application.
func Peers(app string, meta *charm.Meta) []entity.Endpoint {
	var out []entity.Endpoint
	for _, r := range meta.Peers {
		out = append(out, endpointOf(app, r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
