package application

import (
	"fmt"
	"maps"

	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
)

// UpdateSettings is `troupe config app k=v … --reset k …`: the raw
// values are parsed against the schema of the application's charm as the
// actor holds it, merged over its user settings, and the reset options
// dropped, all in the actor. Deciding the merge here rather than in the
// caller means two concurrent config changes of different options both
// land (no read-modify-write across the API call), and a call costs no
// store read: the application's document is the actor's state.
type UpdateSettings struct {
	Set   map[string]string
	Reset []string
	// Schema returns the config schema of the charm whose archive has
	// the given SHA-256. Charms are stored by content, so the lookup is
	// a pure function of its argument (the API server's charm cache).
	Schema func(sha string) (*charm.Config, error)
}

// InvalidSettings is UpdateSettings refused for its input: an unknown
// option, a value of the wrong type. The caller's fault; nothing changed.
type InvalidSettings struct{ Err error }

func (e *InvalidSettings) Error() string { return e.Err.Error() }
func (e *InvalidSettings) Unwrap() error { return e.Err }

// updateSettings decides UpdateSettings against cur.
func updateSettings(cur *entity.Application, m *UpdateSettings) (*entity.Application, any, error) {
	if m.Schema == nil {
		return nil, nil, fmt.Errorf("application %s: no charm schema lookup given", cur.Name)
	}
	schema, err := m.Schema(cur.CharmSHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read charm %s: %w", cur.CharmURL, err)
	}
	values, err := schema.ParseSettingsStrings(m.Set)
	if err != nil {
		return nil, nil, &InvalidSettings{fmt.Errorf("cannot set config of %q: %w", cur.Name, err)}
	}
	user := maps.Clone(cur.UserSettings)
	if user == nil {
		user = map[string]any{}
	}
	for _, k := range m.Reset {
		if _, ok := schema.Options[k]; !ok {
			return nil, nil, &InvalidSettings{fmt.Errorf("cannot reset %q: the charm of %q has no such option; run `troupe config %s` to list them", k, cur.Name, cur.Name)}
		}
		delete(user, k)
	}
	maps.Copy(user, values)
	eff := schema.EffectiveSettings(user)
	hash := eff.Hash()
	if hash == cur.ConfigHash && maps.EqualFunc(user, cur.UserSettings, sameSetting) {
		return nil, &Done{}, nil // nothing changes: no write, no config-changed
	}
	next := *cur
	next.UserSettings, next.Settings, next.ConfigHash = user, eff, hash
	return &next, &Done{}, nil
}

// sameSetting compares two decoded setting values (strings, numbers,
// booleans; nil for unset).
func sameSetting(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) && (a == nil) == (b == nil) }
