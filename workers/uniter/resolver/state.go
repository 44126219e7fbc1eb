package resolver

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

// Kind is the kind of operation recorded in State (YAML/JSON key "op").
type Kind string

// Operation kinds of the contract, §8.1. The zero Kind means no state was
// ever persisted: the charm has not been deployed yet.
const (
	KindInstall   Kind = "install"    // deploying the charm for the first time
	KindRunHook   Kind = "run-hook"   // a hook is queued, running, failed or done
	KindRunAction Kind = "run-action" // an action is running
	KindUpgrade   Kind = "upgrade"    // deploying a new charm over the old one
	KindContinue  Kind = "continue"   // idle: the resolver picks the next op
)

// Step is the progress of the recorded operation ("opstep").
type Step string

// Steps of the contract, §8.1.
//
//	queued ──Prepare──▶ pending ──Executed(ok)──▶ done ──Commit──▶ next state
//	                       │
//	                       ├─Executed(!ok)──▶ pending (hook error state)
//	                       └─Terminated────▶ queued  (killed by the agent)
const (
	StepQueued  Step = "queued"
	StepPending Step = "pending"
	StepDone    Step = "done"
)

// maxCompletedActions bounds State.CompletedActions. Actions leave the
// controller's pending list as soon as their result is recorded, so only
// the last few ids are needed to bridge the watcher's lag.
const maxCompletedActions = 64

// State is the unit's local state: what the uniter has done. It is
// persisted (by package opstate) after every step of every operation;
// fields tagged `json:"-"` are in-memory only and reset to zero when the
// agent restarts, which is what makes non-leaders run
// leader-settings-changed once after each start (§7).
//
// State values are treated as immutable: every function of this package
// returns a modified copy and never aliases the maps of its argument.
type State struct {
	Kind Kind `json:"op,omitempty" yaml:"op,omitempty"`
	Step Step `json:"opstep,omitempty" yaml:"opstep,omitempty"`
	// Hook is the hook of a run-hook operation, or the hook that was in
	// progress (HookStep) when an action interleaved.
	Hook     *hook.Info `json:"hook,omitempty" yaml:"hook,omitempty"`
	HookStep Step       `json:"hook-step,omitempty" yaml:"hook-step,omitempty"`
	// HookContext is the context id the hook of a done run-hook
	// operation ran with, until it commits.
	HookContext string `json:"hook-context,omitempty" yaml:"hook-context,omitempty"`
	ActionID    string `json:"action-id,omitempty" yaml:"action-id,omitempty"`

	// CharmURL and CharmModifiedVersion name the deployed charm, or the
	// charm being deployed while Kind is install or upgrade.
	CharmURL             string `json:"charm,omitempty" yaml:"charm,omitempty"`
	CharmModifiedVersion int    `json:"charm-modified-version,omitempty" yaml:"charm-modified-version,omitempty"`

	Installed bool `json:"installed,omitempty" yaml:"installed,omitempty"`
	Started   bool `json:"started,omitempty" yaml:"started,omitempty"`
	Stopped   bool `json:"stopped,omitempty" yaml:"stopped,omitempty"`
	Removed   bool `json:"removed,omitempty" yaml:"removed,omitempty"`
	Leader    bool `json:"leader,omitempty" yaml:"leader,omitempty"`

	// The hashes the last committed config-changed ran for.
	ConfigHash    string `json:"config-hash,omitempty" yaml:"config-hash,omitempty"`
	TrustHash     string `json:"trust-hash,omitempty" yaml:"trust-hash,omitempty"`
	AddressesHash string `json:"addresses-hash,omitempty" yaml:"addresses-hash,omitempty"`

	// Relations the unit has run relation-created for, by relation id.
	// An entry is removed when relation-broken commits (or, for a peer
	// relation, when the unit leaves its scope).
	Relations map[int]*RelationState `json:"relations,omitempty" yaml:"relations,omitempty"`
	// AttachedStorage holds the storage ids whose storage-attached hook
	// committed and whose storage-detaching hook has not.
	AttachedStorage map[string]bool `json:"storage,omitempty" yaml:"storage,omitempty"`
	// CompletedActions holds the ids of the most recently finished
	// actions, so an action is not re-run while the controller's pending
	// list lags behind.
	CompletedActions []string `json:"completed-actions,omitempty" yaml:"completed-actions,omitempty"`

	// WorkloadEventSeq is the Seq of the last workload (Pebble) event
	// whose hook was prepared. It is persisted, unlike the counters
	// below: workload events come from a durable queue whose numbers
	// survive restarts (workers/pebble.Queue), so an event is neither
	// repeated nor lost across a kill -9.
	WorkloadEventSeq uint64 `json:"workload-event-seq,omitempty" yaml:"workload-event-seq,omitempty"`

	// In-memory only. Each records the snapshot counter of the same name
	// that the last corresponding operation was prepared for.
	LeaderSettingsVersion int    `json:"-" yaml:"-"`
	UpdateStatusVersion   int    `json:"-" yaml:"-"`
	RetryHookVersion      int    `json:"-" yaml:"-"`
	SecretEventSeq        uint64 `json:"-" yaml:"-"`
}

// RelationState is what the unit knows of one relation it is in.
type RelationState struct {
	Endpoint  string `json:"endpoint" yaml:"endpoint"`
	RemoteApp string `json:"remote-application" yaml:"remote-application"`
	Peer      bool   `json:"peer,omitempty" yaml:"peer,omitempty"`
	Created   bool   `json:"created,omitempty" yaml:"created,omitempty"`
	// Members maps each remote unit whose -joined committed (and whose
	// -departed has not) to the last settings version a hook reported.
	Members map[string]int64 `json:"members,omitempty" yaml:"members,omitempty"`
	// AppMembers maps remote applications to the last application
	// databag version an application-level -changed reported.
	AppMembers map[string]int64 `json:"application-members,omitempty" yaml:"application-members,omitempty"`
	// ChangedPending names the unit whose -joined committed and whose
	// immediately-following -changed has not yet.
	ChangedPending string `json:"changed-pending,omitempty" yaml:"changed-pending,omitempty"`
}

// Clone returns a deep copy of s.
func (s State) Clone() State {
	c := s
	if s.Hook != nil {
		h := *s.Hook
		c.Hook = &h
	}
	if s.Relations != nil {
		c.Relations = make(map[int]*RelationState, len(s.Relations))
		for id, r := range s.Relations {
			c.Relations[id] = r.clone()
		}
	}
	c.AttachedStorage = maps.Clone(s.AttachedStorage)
	c.CompletedActions = slices.Clone(s.CompletedActions)
	return c
}

func (r *RelationState) clone() *RelationState {
	if r == nil {
		return nil
	}
	c := *r
	c.Members = maps.Clone(r.Members)
	c.AppMembers = maps.Clone(r.AppMembers)
	return &c
}

// InError reports whether s is the hook error state (§2.4): a hook failed
// or was interrupted and no other hook may run until it is retried or
// resolved. The caller sets the agent status to error and, if hooks are
// retried automatically, runs the retry timer while InError holds.
func (s State) InError() (hook.Info, bool) {
	if s.Kind == KindRunHook && s.Step == StepPending && s.Hook != nil {
		return *s.Hook, true
	}
	return hook.Info{}, false
}

// Validate checks that s is internally consistent, as a guard against a
// corrupt or hand-edited state file.
func (s State) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("invalid uniter state: %w", err)
	}
	return nil
}

func (s State) validate() error {
	switch s.Kind {
	case "":
		if s.Installed || s.Step != "" {
			return errors.New("no operation kind, yet the unit is installed or an op step is set")
		}
		return nil
	case KindInstall, KindUpgrade, KindRunHook, KindRunAction, KindContinue:
	default:
		return fmt.Errorf("unknown operation kind %q", s.Kind)
	}
	switch s.Step {
	case StepQueued, StepPending, StepDone:
	default:
		return fmt.Errorf("unknown operation step %q", s.Step)
	}
	switch s.Kind {
	case KindInstall, KindUpgrade:
		if s.CharmURL == "" {
			return fmt.Errorf("%s operation without a charm URL", s.Kind)
		}
	case KindRunHook:
		if s.Hook == nil {
			return errors.New("run-hook operation without a hook")
		}
	case KindRunAction:
		if s.ActionID == "" {
			return errors.New("run-action operation without an action id")
		}
	}
	if s.Hook != nil {
		if err := s.Hook.Validate(); err != nil {
			return err
		}
	}
	for id, r := range s.Relations {
		if r == nil || r.Endpoint == "" || r.RemoteApp == "" {
			return fmt.Errorf("relation %d has no endpoint or remote application", id)
		}
	}
	return nil
}
