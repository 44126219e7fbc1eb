package hookcmds

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"maps"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/troupe-dev/troupe/internal/limits"
)

// Backend is what the unit agent supplies so that HookState can implement
// Context. Embedded groups are passed straight through (their contracts are
// on Context). Everything else is a read of committed data; HookState
// layers this hook's pending writes, caching and the access rules on top.
// Backend methods are called from one goroutine at a time.
type Backend interface {
	UnitContext
	StatusContext
	ConfigContext
	ActionContext
	NetworkContext
	ResourceContext
	RebootContext

	// ClaimLeadership asks the leadership tracker; true guarantees
	// leadership for the lease guarantee from the call.
	ClaimLeadership() (bool, error)
	// LeaderSettings returns the application's leader settings.
	LeaderSettings() (map[string]string, error)
	// WriteLeaderSettings applies a merge (empty value deletes) now.
	// HookState has already checked leadership.
	WriteLeaderSettings(settings map[string]string) error

	// Relations lists live relations the unit is in scope of.
	Relations() ([]RelationInfo, error)
	// RelationMembers lists joined remote units of relation id.
	RelationMembers(id int) ([]string, error)
	// ReadSettings returns the committed bag of unitOrApp (an application
	// when app is true). HookState caches the answer for the hook and has
	// already applied the access rules.
	ReadSettings(id int, unitOrApp string, app bool) (map[string]string, error)

	// CommittedPorts returns the unit's open ports by endpoint ("" = all).
	CommittedPorts() (map[string][]PortRange, error)
	// CommittedCharmState returns the unit's stored charm state.
	CommittedCharmState() (map[string]string, error)
	// StorageIDs and StorageAttachment describe attached storage.
	StorageIDs() ([]string, error)
	StorageAttachment(id string) (StorageAttachment, error)

	// ReadSecret returns secret content as in SecretContext.SecretContent
	// for secrets that existed before this hook.
	ReadSecret(uri, label string, refresh, peek bool) (map[string]string, error)
	// OwnedSecrets returns the unit's (and, for the leader, its
	// application's) secrets keyed by URI.
	OwnedSecrets() (map[string]SecretMetadata, error)
}

// HookStateConfig configures a HookState.
type HookStateConfig struct {
	Backend Backend
	// MaxCharmStateSize bounds the total size of keys and values of charm
	// state; zero means 2 MiB (Juju's max-charm-state-size default).
	MaxCharmStateSize int
}

// Changes are the buffered effects of a hook, committed by the agent in
// one call if the hook exits 0 and dropped otherwise.
type Changes struct {
	// RelationSettings holds per relation the merged changes; an empty
	// value deletes the key.
	RelationSettings map[int]RelationChanges
	// OpenPorts and ClosePorts are keyed by endpoint ("" = all).
	OpenPorts, ClosePorts map[string][]PortRange
	// CharmStateSet and CharmStateDelete are charm-state edits.
	CharmStateSet    map[string]string
	CharmStateDelete []string
	// AddStorage maps storage names to added counts.
	AddStorage map[string]int
	// Secrets lists secret operations in the order they were made.
	Secrets []SecretChange
}

// RelationChanges are the pending writes to one relation.
type RelationChanges struct {
	Unit map[string]string
	App  map[string]string
}

// SecretChange is one buffered secret operation; Kind is "create",
// "update", "grant", "revoke" or "remove".
type SecretChange struct {
	Kind     string
	URI      string
	Args     SecretArgs  // create, update
	Grant    SecretGrant // grant, revoke
	Revision int         // remove; 0 = all
}

// IsEmpty reports whether there is nothing to commit.
func (c Changes) IsEmpty() bool {
	return len(c.RelationSettings) == 0 && len(c.OpenPorts) == 0 && len(c.ClosePorts) == 0 &&
		len(c.CharmStateSet) == 0 && len(c.CharmStateDelete) == 0 && len(c.AddStorage) == 0 && len(c.Secrets) == 0
}

// HookState implements Context for one hook over a Backend: it buffers
// writes, makes a false is-leader sticky, enforces the relation data access
// rules of the contract (§6) and caches remote reads for the hook. Create
// one per hook; call Changes after the hook exits 0. Not safe for
// concurrent use (the hook tool server serialises calls).
type HookState struct {
	UnitContext
	StatusContext
	ConfigContext
	ActionContext
	NetworkContext
	ResourceContext
	RebootContext

	b        Backend
	maxState int

	minion    bool // a false is-leader was seen; sticky
	relations map[int]RelationInfo
	cache     map[string]map[string]string // committed bags read this hook
	relSet    map[int]*RelationChanges
	opened    map[string][]PortRange
	closed    map[string][]PortRange
	state     map[string]string // nil until first read
	stateSet  map[string]string
	stateDel  map[string]bool
	storage   map[string]int
	secrets   []SecretChange
	created   map[string]SecretArgs // pending new secrets by URI
}

var _ Context = (*HookState)(nil)

// NewHookState returns the hook state for one hook.
func NewHookState(cfg HookStateConfig) *HookState {
	b := cfg.Backend
	max := cfg.MaxCharmStateSize
	if max == 0 {
		max = 2 << 20
	}
	return &HookState{
		UnitContext: b, StatusContext: b, ConfigContext: b, ActionContext: b,
		NetworkContext: b, ResourceContext: b, RebootContext: b,
		b: b, maxState: max,
		cache:    map[string]map[string]string{},
		relSet:   map[int]*RelationChanges{},
		opened:   map[string][]PortRange{},
		closed:   map[string][]PortRange{},
		stateSet: map[string]string{},
		stateDel: map[string]bool{},
		storage:  map[string]int{},
		created:  map[string]SecretArgs{},
	}
}

// Changes returns the buffered changes.
func (h *HookState) Changes() Changes {
	ch := Changes{
		RelationSettings: map[int]RelationChanges{},
		OpenPorts:        map[string][]PortRange{},
		ClosePorts:       map[string][]PortRange{},
		CharmStateSet:    maps.Clone(h.stateSet),
		AddStorage:       maps.Clone(h.storage),
		Secrets:          append([]SecretChange(nil), h.secrets...),
	}
	for id, rc := range h.relSet {
		ch.RelationSettings[id] = RelationChanges{Unit: maps.Clone(rc.Unit), App: maps.Clone(rc.App)}
	}
	for ep, r := range h.opened {
		if len(r) > 0 {
			ch.OpenPorts[ep] = append([]PortRange(nil), r...)
		}
	}
	for ep, r := range h.closed {
		if len(r) > 0 {
			ch.ClosePorts[ep] = append([]PortRange(nil), r...)
		}
	}
	for k := range h.stateDel {
		ch.CharmStateDelete = append(ch.CharmStateDelete, k)
	}
	sort.Strings(ch.CharmStateDelete)
	return ch
}

func (h *HookState) appName() string { return applicationOf(h.b.HookInfo().UnitName) }

// --- status (leader checks) ---

func (h *HookState) ApplicationStatus() (ApplicationStatusInfo, error) {
	if ok, err := h.IsLeader(); err != nil {
		return ApplicationStatusInfo{}, err
	} else if !ok {
		return ApplicationStatusInfo{}, ErrNotLeader
	}
	return h.b.ApplicationStatus()
}

func (h *HookState) SetApplicationStatus(s StatusInfo) error {
	if ok, err := h.IsLeader(); err != nil {
		return err
	} else if !ok {
		return ErrNotLeader
	}
	return h.b.SetApplicationStatus(s)
}

// --- leadership ---

func (h *HookState) IsLeader() (bool, error) {
	if h.minion {
		return false, nil
	}
	ok, err := h.b.ClaimLeadership()
	if err != nil {
		return false, err
	}
	if !ok {
		h.minion = true
	}
	return ok, nil
}

func (h *HookState) LeaderSettings() (map[string]string, error) { return h.b.LeaderSettings() }

func (h *HookState) WriteLeaderSettings(s map[string]string) error {
	if ok, err := h.IsLeader(); err != nil {
		return err
	} else if !ok {
		return ErrNotLeader
	}
	return h.b.WriteLeaderSettings(s)
}

// --- relations ---

func (h *HookState) loadRelations() error {
	if h.relations != nil {
		return nil
	}
	rels, err := h.b.Relations()
	if err != nil {
		return err
	}
	h.relations = map[int]RelationInfo{}
	for _, r := range rels {
		h.relations[r.ID] = r
	}
	return nil
}

func (h *HookState) Relations() ([]RelationInfo, error) {
	if err := h.loadRelations(); err != nil {
		return nil, err
	}
	out := make([]RelationInfo, 0, len(h.relations))
	for _, r := range h.relations {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (h *HookState) Relation(id int) (RelationInfo, error) {
	if err := h.loadRelations(); err != nil {
		return RelationInfo{}, err
	}
	r, ok := h.relations[id]
	if !ok {
		return RelationInfo{}, ErrRelationNotFound
	}
	return r, nil
}

func (h *HookState) RelationMembers(id int) ([]string, error) {
	if _, err := h.Relation(id); err != nil {
		return nil, err
	}
	return h.b.RelationMembers(id)
}

func (h *HookState) RelationSettings(id int, target string, app bool) (map[string]string, error) {
	r, err := h.Relation(id)
	if err != nil {
		return nil, err
	}
	own := false
	var pending map[string]string
	if app && target == h.appName() {
		own = true
		if !r.Peer {
			leader, err := h.IsLeader()
			if err != nil {
				return nil, err
			}
			if !leader {
				return nil, ErrPermissionDenied
			}
		}
		if rc := h.relSet[id]; rc != nil {
			pending = rc.App
		}
	} else if !app && target == h.b.HookInfo().UnitName {
		own = true
		if rc := h.relSet[id]; rc != nil {
			pending = rc.Unit
		}
	}
	key := fmt.Sprintf("%d/%t/%s", id, app, target)
	committed, ok := h.cache[key]
	if !ok {
		if committed, err = h.b.ReadSettings(id, target, app); err != nil {
			return nil, err
		}
		h.cache[key] = committed
	}
	out := maps.Clone(committed)
	if out == nil {
		out = map[string]string{}
	}
	if own {
		for k, v := range pending {
			if v == "" {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
	}
	return out, nil
}

func (h *HookState) UpdateRelationSettings(id int, app bool, changes map[string]string) error {
	if _, err := h.Relation(id); err != nil {
		return err
	}
	for k, v := range changes {
		if k == "" || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("cannot set relation setting %q: keys and values must be non-empty keys and valid UTF-8", strings.ToValidUTF8(k, "\uFFFD"))
		}
	}
	if app {
		leader, err := h.IsLeader()
		if err != nil {
			return err
		}
		if !leader {
			return ErrCannotWriteRelationSettings
		}
	}
	target := h.b.HookInfo().UnitName
	if app {
		target = h.appName()
	}
	rc := h.relSet[id]
	if rc == nil {
		rc = &RelationChanges{}
	}
	dst := &rc.Unit
	if app {
		dst = &rc.App
	}
	// What this hook writes to the bag (its buffered changes merged), so
	// no read of the committed bag is needed (offline hooks, a bag not
	// created yet); the API bounds each commit the same way.
	if err := limits.Check("relation data for "+target, limits.Merged(*dst, changes), limits.RelationBag); err != nil {
		return fmt.Errorf("cannot set relation settings: %w", err)
	}
	h.relSet[id] = rc
	if *dst == nil {
		*dst = map[string]string{}
	}
	maps.Copy(*dst, changes)
	return nil
}

// --- ports ---

func removeRange(list []PortRange, r PortRange) []PortRange {
	out := list[:0]
	for _, x := range list {
		if x != r {
			out = append(out, x)
		}
	}
	return out
}

func hasRange(list []PortRange, r PortRange) bool {
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}

func (h *HookState) OpenPortRange(ep string, r PortRange) error {
	h.closed[ep] = removeRange(h.closed[ep], r)
	if !hasRange(h.opened[ep], r) {
		h.opened[ep] = append(h.opened[ep], r)
	}
	return nil
}

func (h *HookState) ClosePortRange(ep string, r PortRange) error {
	h.opened[ep] = removeRange(h.opened[ep], r)
	if !hasRange(h.closed[ep], r) {
		h.closed[ep] = append(h.closed[ep], r)
	}
	return nil
}

func (h *HookState) OpenedPortRanges() (map[string][]PortRange, error) {
	committed, err := h.b.CommittedPorts()
	if err != nil {
		return nil, err
	}
	out := map[string][]PortRange{}
	for ep, list := range committed {
		for _, r := range list {
			if !hasRange(h.closed[ep], r) {
				out[ep] = append(out[ep], r)
			}
		}
	}
	for ep, list := range h.opened {
		for _, r := range list {
			if !hasRange(out[ep], r) {
				out[ep] = append(out[ep], r)
			}
		}
	}
	return out, nil
}

// --- charm state ---

func (h *HookState) CharmState() (map[string]string, error) {
	if h.state == nil {
		committed, err := h.b.CommittedCharmState()
		if err != nil {
			return nil, err
		}
		h.state = maps.Clone(committed)
		if h.state == nil {
			h.state = map[string]string{}
		}
	}
	return maps.Clone(h.state), nil
}

func (h *HookState) SetCharmStateValue(key, value string) error {
	if value == "" {
		return h.DeleteCharmStateValue(key)
	}
	st, err := h.CharmState()
	if err != nil {
		return err
	}
	st[key] = value
	size := 0
	for k, v := range st {
		size += len(k) + len(v)
	}
	if size > h.maxState {
		return fmt.Errorf("cannot set charm state: %d bytes exceeds max-charm-state-size of %d bytes", size, h.maxState)
	}
	h.state[key] = value
	h.stateSet[key] = value
	delete(h.stateDel, key)
	return nil
}

func (h *HookState) DeleteCharmStateValue(key string) error {
	if _, err := h.CharmState(); err != nil {
		return err
	}
	delete(h.state, key)
	delete(h.stateSet, key)
	h.stateDel[key] = true
	return nil
}

// --- storage ---

// StorageAddChecker is implemented by a Backend that can refuse a
// storage-add at call time (unknown storage name, above the charm's
// maximum) rather than at commit, when the charm can no longer be told.
type StorageAddChecker interface {
	// CheckAddStorage checks adding count instances of name in this hook.
	CheckAddStorage(name string, count int) error
}

func (h *HookState) StorageIDs() ([]string, error) { return h.b.StorageIDs() }

func (h *HookState) StorageAttachment(id string) (StorageAttachment, error) {
	return h.b.StorageAttachment(id)
}

func (h *HookState) AddStorage(name string, count int) error {
	if count < 1 {
		return fmt.Errorf("storage count must be positive, got %d", count)
	}
	if c, ok := h.b.(StorageAddChecker); ok {
		if err := c.CheckAddStorage(name, h.storage[name]+count); err != nil {
			return err
		}
	}
	h.storage[name] += count
	return nil
}

// --- secrets ---

// newSecretURI allocates "secret:<20 chars>" like Juju's xid-based ids.
func newSecretURI() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cannot generate secret id: %w", err)
	}
	id := strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	return "secret:" + id[:20], nil
}

func (h *HookState) ownerCheck(owner string) error {
	if owner == "unit" {
		return nil
	}
	leader, err := h.IsLeader()
	if err != nil {
		return err
	}
	if !leader {
		return ErrNotLeader
	}
	return nil
}

func (h *HookState) CreateSecret(a SecretArgs) (string, error) {
	if a.Owner == "" {
		a.Owner = "application"
	}
	if err := h.ownerCheck(a.Owner); err != nil {
		return "", err
	}
	uri, err := newSecretURI()
	if err != nil {
		return "", err
	}
	h.created[uri] = a
	h.secrets = append(h.secrets, SecretChange{Kind: "create", URI: uri, Args: a})
	return uri, nil
}

// findOwned resolves uri among owned secrets (committed or created now).
func (h *HookState) findOwned(uri string) (string, SecretMetadata, error) {
	all, err := h.SecretMetadata()
	if err != nil {
		return "", SecretMetadata{}, err
	}
	for u, md := range all {
		if SecretID(u) == SecretID(uri) {
			return u, md, nil
		}
	}
	return "", SecretMetadata{}, ErrSecretNotFound
}

func (h *HookState) UpdateSecret(uri string, a SecretArgs) error {
	u, md, err := h.findOwned(uri)
	if err != nil {
		return err
	}
	if err := h.ownerCheck(md.Owner); err != nil {
		return err
	}
	if pending, ok := h.created[u]; ok {
		h.created[u] = mergeSecretArgs(pending, a)
	}
	h.secrets = append(h.secrets, SecretChange{Kind: "update", URI: u, Args: a})
	return nil
}

func mergeSecretArgs(base, a SecretArgs) SecretArgs {
	if a.Label != nil {
		base.Label = a.Label
	}
	if a.Description != nil {
		base.Description = a.Description
	}
	if a.Expire != nil {
		base.Expire = a.Expire
	}
	if a.RotatePolicy != nil {
		base.RotatePolicy = a.RotatePolicy
	}
	if a.Owner != "" {
		base.Owner = a.Owner
	}
	if a.Content != nil {
		base.Content = a.Content
	}
	return base
}

func (h *HookState) SecretContent(uri, label string, refresh, peek bool) (map[string]string, error) {
	for u, a := range h.created {
		if (uri != "" && SecretID(u) == SecretID(uri)) || (uri == "" && a.Label != nil && *a.Label == label) {
			return maps.Clone(a.Content), nil
		}
	}
	return h.b.ReadSecret(uri, label, refresh, peek)
}

func (h *HookState) SecretMetadata() (map[string]SecretMetadata, error) {
	owned, err := h.b.OwnedSecrets()
	if err != nil {
		return nil, err
	}
	out := maps.Clone(owned)
	if out == nil {
		out = map[string]SecretMetadata{}
	}
	for _, ch := range h.secrets {
		md := out[ch.URI]
		switch ch.Kind {
		case "create":
			md = SecretMetadata{URI: ch.URI, Owner: ch.Args.Owner}
			fallthrough
		case "update":
			if ch.Args.Label != nil {
				md.Label = *ch.Args.Label
			}
			if ch.Args.Description != nil {
				md.Description = *ch.Args.Description
			}
			if ch.Args.Expire != nil {
				md.Expiry = ch.Args.Expire
			}
			if ch.Args.RotatePolicy != nil {
				md.RotatePolicy = *ch.Args.RotatePolicy
			}
			if ch.Args.Content != nil {
				md.Revision++
			}
			out[ch.URI] = md
		case "remove":
			if ch.Revision == 0 {
				delete(out, ch.URI)
			}
		}
	}
	return out, nil
}

func (h *HookState) GrantSecret(uri string, g SecretGrant) error {
	return h.secretOp("grant", uri, g, 0)
}

func (h *HookState) RevokeSecret(uri string, g SecretGrant) error {
	return h.secretOp("revoke", uri, g, 0)
}

func (h *HookState) RemoveSecret(uri string, revision int) error {
	return h.secretOp("remove", uri, SecretGrant{}, revision)
}

func (h *HookState) secretOp(kind, uri string, g SecretGrant, revision int) error {
	u, md, err := h.findOwned(uri)
	if err != nil {
		return err
	}
	if err := h.ownerCheck(md.Owner); err != nil {
		return err
	}
	if g.RelationID >= 0 && (kind == "grant" || kind == "revoke") {
		if _, err := h.Relation(g.RelationID); err != nil {
			return err
		}
	}
	h.secrets = append(h.secrets, SecretChange{Kind: kind, URI: u, Grant: g, Revision: revision})
	return nil
}
