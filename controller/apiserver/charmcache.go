package apiserver

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/troupe-dev/troupe/internal/charm"
)

// charmCacheSize bounds the parsed charms kept in memory.
const charmCacheSize = 64

// charmCache keeps parsed charms by archive SHA-256. Archives are content
// addressed and never change, so an entry never goes stale; the cache
// only bounds memory, evicting the oldest entry when full. Safe for
// concurrent use.
type charmCache struct {
	mu      sync.Mutex
	entries map[string]*charm.Charm // guarded by mu
	order   []string                // guarded by mu; insertion order
}

// charmBySHA returns the parsed charm stored under sha, reading and
// unpacking its archive once.
func (s *Server) charmBySHA(sha string) (*charm.Charm, error) {
	c := &s.charms
	c.mu.Lock()
	ch, ok := c.entries[sha]
	c.mu.Unlock()
	if ok {
		return ch, nil
	}
	ch, err := charm.ReadArchive(filepath.Join(s.cfg.CharmDir, sha+".charm"))
	if err != nil {
		return nil, fmt.Errorf("cannot read stored charm %s: %w", sha, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*charm.Charm{}
	}
	if _, ok := c.entries[sha]; !ok {
		if len(c.order) >= charmCacheSize {
			delete(c.entries, c.order[0])
			c.order = c.order[1:]
		}
		c.entries[sha] = ch
		c.order = append(c.order, sha)
	}
	return c.entries[sha], nil
}
