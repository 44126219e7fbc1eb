package application

import (
	"fmt"
	"sort"

	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
)

// SetCharm switches the application to a new charm revision (`troupe
// refresh`): the charm identity and the settings carried over to the new
// charm's schema change in one write, so a unit's snapshot sees both
// together and runs upgrade-charm then one config-changed. From is the
// charm URL the caller checked against; a different current URL means a
// concurrent refresh won and the command is refused.
type SetCharm struct {
	From      string
	Charm     entity.Charm
	User      map[string]any
	Effective map[string]any
	Hash      string
}

func setCharm(cur *entity.Application, m *SetCharm) (*entity.Application, any, error) {
	if cur.Life != entity.Alive {
		return nil, nil, fmt.Errorf("cannot refresh application %q: it is %s", cur.Name, cur.Life)
	}
	if cur.CharmURL != m.From {
		return nil, nil, fmt.Errorf("cannot refresh application %q: its charm changed meanwhile (now %s); run the refresh again", cur.Name, cur.CharmURL)
	}
	next := *cur
	next.CharmURL, next.CharmName, next.CharmRev, next.CharmSHA256 = m.Charm.URL, m.Charm.Name, m.Charm.Revision, m.Charm.SHA256
	next.CharmVersion = m.Charm.Version
	next.UserSettings, next.Settings, next.ConfigHash = m.User, m.Effective, m.Hash
	return &next, &Done{}, nil
}

// RefreshPlan is what CheckRefresh decided: the user settings kept for
// the new charm and the ones dropped (option gone, or the value no longer
// fits its type), sorted.
type RefreshPlan struct {
	User    map[string]any
	Dropped []string
}

// CheckRefresh is the pure check of a charm refresh of app from oldMeta to
// newCh against the application's alive relations: the charm name and
// subordinate-ness stay, every endpoint an alive relation uses keeps its
// interface and role, and no endpoint ends up past a new limit. User
// settings keep their value where the new charm still has the option and
// the value still fits its type; the others are dropped, as Juju does.
func CheckRefresh(app string, oldMeta *charm.Meta, newCh *charm.Charm, user map[string]any, rels []entity.Relation) (RefreshPlan, error) {
	var plan RefreshPlan
	nm := newCh.Meta
	if nm.Name != oldMeta.Name {
		return plan, fmt.Errorf("cannot refresh %q: its charm is %q and the new one is %q; refresh to a revision of the same charm", app, oldMeta.Name, nm.Name)
	}
	if nm.Subordinate != oldMeta.Subordinate {
		what := "subordinate"
		if !nm.Subordinate {
			what = "principal"
		}
		return plan, fmt.Errorf("cannot refresh %q: the new charm is a %s charm and the deployed one is not; deploy it as a new application instead", app, what)
	}
	used := map[string]int{}
	for _, r := range rels {
		if r.Life != entity.Alive {
			continue
		}
		ep, ok := r.Endpoint(app)
		if !ok {
			continue
		}
		used[ep.Name]++
		rel, ok := nm.Endpoint(ep.Name)
		switch {
		case !ok:
			return plan, fmt.Errorf("cannot refresh %q: the new charm has no %q endpoint, which relation %q still uses; remove the relation first with `troupe remove-relation %d`", app, ep.Name, r.Key, r.ID)
		case rel.Interface != ep.Interface || string(rel.Role) != ep.Role:
			return plan, fmt.Errorf("cannot refresh %q: endpoint %q changes from %s %q to %s %q, and relation %q still uses it; remove the relation first with `troupe remove-relation %d`",
				app, ep.Name, ep.Role, ep.Interface, rel.Role, rel.Interface, r.Key, r.ID)
		}
	}
	for name, n := range used {
		rel, _ := nm.Endpoint(name)
		if rel.Limit > 0 && n > rel.Limit {
			return plan, fmt.Errorf("cannot refresh %q: endpoint %q of the new charm allows %d relations and %d exist; remove some first", app, name, rel.Limit, n)
		}
	}
	plan.User = map[string]any{}
	for k, v := range user {
		if v == nil {
			continue
		}
		typed, err := newCh.Config.ValidateSettings(map[string]any{k: v})
		if err != nil {
			plan.Dropped = append(plan.Dropped, k)
			continue
		}
		plan.User[k] = typed[k]
	}
	sort.Strings(plan.Dropped)
	return plan, nil
}

// NewPeers returns the peer endpoints of the new charm that have no
// relation yet (a refresh creates them, as Juju does).
func NewPeers(app string, newMeta *charm.Meta, rels []entity.Relation) []string {
	have := map[string]bool{}
	for _, r := range rels {
		if r.IsPeer() && r.Endpoints[0].Application == app && r.Life == entity.Alive {
			have[r.Endpoints[0].Name] = true
		}
	}
	var out []string
	for name := range newMeta.Peers {
		if !have[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
