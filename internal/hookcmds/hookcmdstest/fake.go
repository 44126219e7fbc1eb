// Package hookcmdstest provides Unit, an in-memory reference
// implementation of hookcmds.Backend (a fake unit with relations, config,
// leadership, actions, ports, storage, secrets and resources), and
// NewContext, which wraps it in a hookcmds.HookState. Tests of hook tools
// and of the unit agent use it; production code never imports it.
package hookcmdstest

import (
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"

	"github.com/troupe-dev/troupe/internal/hookcmds"
)

// LogEntry is one juju-log call.
type LogEntry struct{ Level, Message string }

// Relation is one relation of the fake unit.
type Relation struct {
	Info    hookcmds.RelationInfo
	Members []string
	// Settings holds committed bags keyed by unit or application name.
	Settings map[string]map[string]string
}

// Action is the running action, if any.
type Action struct {
	Params     map[string]any
	Results    map[string]any
	Logs       []string
	Failed     bool
	FailReason string
}

// Secret is a secret the fake knows about.
type Secret struct {
	Meta    hookcmds.SecretMetadata
	Content map[string]string
	// Owned secrets are listed by OwnedSecrets.
	Owned bool
}

// Unit is a fake unit. Set its exported fields before the hook; read them
// (and the HookState's Changes) after. Methods are safe for concurrent use.
type Unit struct {
	mu sync.Mutex

	Info         hookcmds.HookInfo
	Status       hookcmds.StatusInfo
	AppStatus    hookcmds.ApplicationStatusInfo
	Version      string
	Logs         []LogEntry
	Config       map[string]any
	Leader       bool
	LeaderClaims int
	LeaderData   map[string]string
	Rels         map[int]*Relation
	Action       *Action
	Ports        map[string][]hookcmds.PortRange
	Networks     map[string]hookcmds.NetworkInfo
	PublicAddr   string
	PrivateAddr  string
	Goal         hookcmds.GoalState
	Cloud        map[string]any // nil: not trusted
	State        map[string]string
	Storage      map[string]hookcmds.StorageAttachment
	// StorageMax, when set, is the charm's maximum count per storage name
	// for storage-add checks (CheckAddStorage), counted beyond Storage.
	StorageMax map[string]int
	Secrets    map[string]*Secret // keyed by URI
	Resources  map[string]string
	Reboot     string // "", "after-hook" or "now"
}

// NewUnit returns a fake unit named name with no relations, in a plain
// (non-relation, non-action) hook.
func NewUnit(name string) *Unit {
	return &Unit{
		Info:       hookcmds.HookInfo{UnitName: name, ModelUUID: "deadbeef-0bad-400d-8000-4b1d0d06f00d", RelationID: -1},
		Status:     hookcmds.StatusInfo{Status: "unknown"},
		Config:     map[string]any{},
		LeaderData: map[string]string{},
		Rels:       map[int]*Relation{},
		Ports:      map[string][]hookcmds.PortRange{},
		Networks:   map[string]hookcmds.NetworkInfo{},
		State:      map[string]string{},
		Storage:    map[string]hookcmds.StorageAttachment{},
		Secrets:    map[string]*Secret{},
		Resources:  map[string]string{},
	}
}

// NewContext wraps u in a fresh HookState.
func NewContext(u *Unit) *hookcmds.HookState {
	return hookcmds.NewHookState(hookcmds.HookStateConfig{Backend: u})
}

var _ hookcmds.Backend = (*Unit)(nil)

func (u *Unit) HookInfo() hookcmds.HookInfo {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.Info
}

func (u *Unit) LogMessage(level, msg string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.Logs = append(u.Logs, LogEntry{level, msg})
	return nil
}

func (u *Unit) UnitStatus() (hookcmds.StatusInfo, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.Status, nil
}

func (u *Unit) ApplicationStatus() (hookcmds.ApplicationStatusInfo, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.AppStatus, nil
}

func (u *Unit) SetUnitStatus(s hookcmds.StatusInfo) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.Status = s
	return nil
}

func (u *Unit) SetApplicationStatus(s hookcmds.StatusInfo) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.AppStatus.Application = s
	return nil
}

func (u *Unit) SetApplicationVersion(v string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.Version = v
	return nil
}

func (u *Unit) ConfigSettings() (map[string]any, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return maps.Clone(u.Config), nil
}

func (u *Unit) ClaimLeadership() (bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.LeaderClaims++
	return u.Leader, nil
}

func (u *Unit) LeaderSettings() (map[string]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return maps.Clone(u.LeaderData), nil
}

func (u *Unit) WriteLeaderSettings(s map[string]string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, v := range s {
		if v == "" {
			delete(u.LeaderData, k)
		} else {
			u.LeaderData[k] = v
		}
	}
	return nil
}

func (u *Unit) Relations() ([]hookcmds.RelationInfo, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []hookcmds.RelationInfo
	for _, r := range u.Rels {
		out = append(out, r.Info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (u *Unit) RelationMembers(id int) ([]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	r, ok := u.Rels[id]
	if !ok {
		return nil, hookcmds.ErrRelationNotFound
	}
	return append([]string{}, r.Members...), nil
}

func (u *Unit) ReadSettings(id int, target string, app bool) (map[string]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	r, ok := u.Rels[id]
	if !ok {
		return nil, hookcmds.ErrRelationNotFound
	}
	return maps.Clone(r.Settings[target]), nil
}

func (u *Unit) ActionParams() (map[string]any, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.Action == nil {
		return nil, hookcmds.ErrNotAction
	}
	return u.Action.Params, nil
}

func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			dm, ok := dst[k].(map[string]any)
			if !ok {
				dm = map[string]any{}
				dst[k] = dm
			}
			deepMerge(dm, sm)
			continue
		}
		dst[k] = v
	}
}

func (u *Unit) UpdateActionResults(r map[string]any) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.Action == nil {
		return hookcmds.ErrNotAction
	}
	if u.Action.Results == nil {
		u.Action.Results = map[string]any{}
	}
	deepMerge(u.Action.Results, r)
	return nil
}

func (u *Unit) LogActionMessage(msg string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.Action == nil {
		return hookcmds.ErrNotAction
	}
	u.Action.Logs = append(u.Action.Logs, msg)
	return nil
}

func (u *Unit) SetActionFailed(msg string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.Action == nil {
		return hookcmds.ErrNotAction
	}
	u.Action.Failed, u.Action.FailReason = true, msg
	return nil
}

func (u *Unit) NetworkInfo(binding string, relationID int) (hookcmds.NetworkInfo, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if relationID >= 0 {
		if _, ok := u.Rels[relationID]; !ok {
			return hookcmds.NetworkInfo{}, hookcmds.ErrRelationNotFound
		}
	}
	n, ok := u.Networks[binding]
	if !ok {
		return hookcmds.NetworkInfo{}, hookcmds.ErrBindingNotFound
	}
	return n, nil
}

func (u *Unit) UnitAddress(public bool) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if public {
		return u.PublicAddr, nil
	}
	return u.PrivateAddr, nil
}

func (u *Unit) GoalState() (hookcmds.GoalState, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.Goal, nil
}

func (u *Unit) CloudSpec() (map[string]any, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.Cloud == nil {
		return nil, hookcmds.ErrNoCredential
	}
	return u.Cloud, nil
}

func (u *Unit) ResourcePath(name string) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.Resources[name]
	if !ok {
		return "", hookcmds.ErrResourceNotFound
	}
	return p, nil
}

func (u *Unit) RequestReboot(now bool) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.Reboot = "after-hook"
	if now {
		u.Reboot = "now"
	}
	return nil
}

func (u *Unit) CommittedPorts() (map[string][]hookcmds.PortRange, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string][]hookcmds.PortRange{}
	for k, v := range u.Ports {
		out[k] = append([]hookcmds.PortRange(nil), v...)
	}
	return out, nil
}

func (u *Unit) CommittedCharmState() (map[string]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return maps.Clone(u.State), nil
}

func (u *Unit) StorageIDs() ([]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	ids := make([]string, 0, len(u.Storage))
	for id := range u.Storage {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

func (u *Unit) StorageAttachment(id string) (hookcmds.StorageAttachment, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	a, ok := u.Storage[id]
	if !ok {
		return hookcmds.StorageAttachment{}, hookcmds.ErrStorageNotFound
	}
	return a, nil
}

// CheckAddStorage implements hookcmds.StorageAddChecker when StorageMax
// is set, as the unit agent does against the charm's metadata.
func (u *Unit) CheckAddStorage(name string, count int) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.StorageMax == nil {
		return nil
	}
	max, ok := u.StorageMax[name]
	if !ok {
		return fmt.Errorf("charm storage %q not found", name)
	}
	have := 0
	for id := range u.Storage {
		if strings.HasPrefix(id, name+"/") {
			have++
		}
	}
	if have+count > max {
		return fmt.Errorf("%d more would make %d, above the charm's maximum %d", count, have+count, max)
	}
	return nil
}

func (u *Unit) ReadSecret(uri, label string, refresh, peek bool) (map[string]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, s := range u.Secrets {
		if (uri != "" && hookcmds.SecretID(k) == hookcmds.SecretID(uri)) || (uri == "" && s.Meta.Label == label) {
			return maps.Clone(s.Content), nil
		}
	}
	return nil, hookcmds.ErrSecretNotFound
}

func (u *Unit) OwnedSecrets() (map[string]hookcmds.SecretMetadata, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string]hookcmds.SecretMetadata{}
	for k, s := range u.Secrets {
		if s.Owned {
			out[k] = s.Meta
		}
	}
	return out, nil
}
