package model

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// SetConstraints replaces the model's constraints (already parsed and
// validated by internal/constraints).
type SetConstraints struct{ Values map[string]any }

// ConstraintsSet answers SetConstraints.
type ConstraintsSet struct{}

// UpdateSSHKeys adds and removes the model's authorised keys. Adding a
// key already present is a no-op; removing one that is absent is an error.
type UpdateSSHKeys struct{ Add, Remove []string }

// SSHKeysUpdated answers UpdateSSHKeys with the keys after the change.
type SSHKeysUpdated struct{ Keys []string }

func (g *guardian) saveModel(next ent.Model, what string) error {
	op, err := store.Put(ent.ModelKey(g.cfg.UUID), &next)
	if err != nil {
		return err
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.cfg.Store.Commit(c, op); err != nil {
		return fmt.Errorf("cannot record %s: %w", what, err)
	}
	g.model = &next
	return nil
}

func (g *guardian) setConstraints(m *SetConstraints) (*ConstraintsSet, error) {
	next := *g.model
	next.Constraints = m.Values
	if len(next.Constraints) == 0 {
		next.Constraints = nil
	}
	return &ConstraintsSet{}, g.saveModel(next, "model constraints")
}

func (g *guardian) updateSSHKeys(m *UpdateSSHKeys) (*SSHKeysUpdated, error) {
	keys := slices.Clone(g.model.SSHKeys)
	for _, k := range m.Add {
		k = strings.TrimSpace(k)
		if err := validateSSHKey(k); err != nil {
			return nil, err
		}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, id := range m.Remove {
		i := slices.IndexFunc(keys, func(k string) bool { return SSHKeyMatches(k, id) })
		if i < 0 {
			return nil, fmt.Errorf("key %q not found in model %q; see `troupe ssh-keys`", id, g.model.Name)
		}
		keys = slices.Delete(keys, i, i+1)
	}
	next := *g.model
	next.SSHKeys = keys
	if len(keys) == 0 {
		next.SSHKeys = nil
	}
	if err := g.saveModel(next, "ssh keys"); err != nil {
		return nil, err
	}
	return &SSHKeysUpdated{Keys: slices.Clone(keys)}, nil
}

func validateSSHKey(k string) error {
	f := strings.Fields(k)
	if len(f) < 2 || !strings.HasPrefix(f[0], "ssh-") && !strings.HasPrefix(f[0], "ecdsa-") && !strings.HasPrefix(f[0], "sk-") {
		return fmt.Errorf("invalid ssh key %q: expected \"<type> <base64> [comment]\", e.g. the contents of ~/.ssh/id_ed25519.pub", k)
	}
	if _, err := base64.StdEncoding.DecodeString(f[1]); err != nil {
		return fmt.Errorf("invalid ssh key %q: its key data is not base64", k)
	}
	return nil
}

// SSHKeyMatches reports whether id names key: its full line, its comment
// or its SHA256 fingerprint as ssh-keygen -l prints it.
func SSHKeyMatches(key, id string) bool {
	id = strings.TrimSpace(id)
	if key == id {
		return true
	}
	f := strings.Fields(key)
	if len(f) >= 3 && strings.Join(f[2:], " ") == id {
		return true
	}
	if len(f) >= 2 {
		if raw, err := base64.StdEncoding.DecodeString(f[1]); err == nil {
			sum := sha256.Sum256(raw)
			if "SHA256:"+base64.RawStdEncoding.EncodeToString(sum[:]) == id {
				return true
			}
		}
	}
	return false
}
