package resolver

import "github.com/troupe-dev/troupe/workers/uniter/hook"

// Life is the life of a unit or relation as the controller reports it.
type Life string

// Lives.
const (
	Alive Life = "alive"
	Dying Life = "dying"
	Dead  Life = "dead"
)

// ResolvedMode is what `troupe resolve` asked for.
type ResolvedMode string

// Resolved modes. The zero value means ResolvedNone.
const (
	ResolvedNone       ResolvedMode = "none"
	ResolvedRetryHooks ResolvedMode = "retry-hooks"
	ResolvedNoHooks    ResolvedMode = "no-hooks"
)

// Snapshot is the remote state: what the controller (and the agent's
// timers and Pebble pollers) say the unit should converge to. The
// uniter's remote-state watcher builds it; the resolver only reads it.
//
// The *Version counters are bumped by the watcher; only inequality with
// the value recorded in State matters, never their magnitude:
//
//   - LeaderSettingsVersion: bumped on every leader-settings event,
//     including the watcher's initial event, so it is at least 1 once the
//     watcher has started (this is what makes non-leaders run
//     leader-settings-changed once per agent start).
//   - UpdateStatusVersion: bumped by the update-status timer; starts at 0.
//   - RetryHookVersion: bumped by the hook-retry timer, which the caller
//     runs only while State.InError holds; starts at 0.
type Snapshot struct {
	// UnitName is this unit ("wordpress/0"); it is the departing unit of
	// relation-departed hooks run while this unit is dying.
	UnitName string `yaml:"unit"`
	// Life of the unit. The zero value means Alive.
	Life Life `yaml:"life,omitempty"`

	CharmURL             string `yaml:"charm,omitempty"`
	CharmModifiedVersion int    `yaml:"charm-modified-version,omitempty"`
	// ForceCharmUpgrade allows a charm upgrade while a hook is in error
	// (`refresh --force-units`).
	ForceCharmUpgrade bool `yaml:"force-charm-upgrade,omitempty"`

	ConfigHash    string `yaml:"config-hash,omitempty"`
	TrustHash     string `yaml:"trust-hash,omitempty"`
	AddressesHash string `yaml:"addresses-hash,omitempty"`

	Leader                bool `yaml:"leader,omitempty"`
	LeaderSettingsVersion int  `yaml:"leader-settings-version,omitempty"`
	UpdateStatusVersion   int  `yaml:"update-status-version,omitempty"`
	RetryHookVersion      int  `yaml:"retry-hook-version,omitempty"`
	// ResolvedMode is the unit's resolved flag. When an Op has
	// ClearResolved set, the caller clears the flag on the controller and
	// sets this field to ResolvedNone in its own copy before the next
	// NextOp call.
	ResolvedMode ResolvedMode `yaml:"resolved,omitempty"`

	// Relations the unit is in scope of, by relation id.
	Relations map[int]RelationSnapshot `yaml:"relations,omitempty"`
	// Storage attachments of the unit, by storage id ("data/0").
	Storage map[string]StorageSnapshot `yaml:"storage,omitempty"`

	// ActionsPending lists pending action ids in the order to run them.
	ActionsPending []string `yaml:"actions,omitempty"`

	// WorkloadEvents and SecretEvents are queues of edge-triggered
	// events (Pebble ready/notice/check events; secret changed, rotate,
	// expired, remove). Each event has a Seq, unique and increasing within
	// its queue. The resolver runs the first event whose Seq is above the
	// one recorded in State; the caller may drop events whose Seq is at
	// or below State.WorkloadEventSeq / State.SecretEventSeq. Workload
	// event numbers are durable (State.WorkloadEventSeq is persisted);
	// secret event numbers live as long as the uniter.
	WorkloadEvents []Event `yaml:"workload-events,omitempty"`
	SecretEvents   []Event `yaml:"secret-events,omitempty"`
}

// RelationSnapshot is the controller's view of one relation.
type RelationSnapshot struct {
	Endpoint  string `yaml:"endpoint"`
	RemoteApp string `yaml:"remote-app"`
	Peer      bool   `yaml:"peer,omitempty"`
	// Life of the relation; the zero value means Alive.
	Life      Life `yaml:"life,omitempty"`
	Suspended bool `yaml:"suspended,omitempty"`
	// Members maps remote units in scope to their settings version.
	Members map[string]int64 `yaml:"members,omitempty"`
	// AppMembers maps remote applications to their databag version.
	AppMembers map[string]int64 `yaml:"app-members,omitempty"`
}

// StorageSnapshot is the controller's view of one storage attachment.
type StorageSnapshot struct {
	// Life of the attachment; the zero value means Alive.
	Life Life `yaml:"life,omitempty"`
	// Attached is true once the storage is provisioned and attached to
	// the machine, i.e. storage-attached may run.
	Attached bool `yaml:"attached,omitempty"`
}

// Event is one edge-triggered hook request.
type Event struct {
	Seq  uint64    `yaml:"seq"`
	Hook hook.Info `yaml:"hook"`
	// LeaderOnly events (rotation, expiry and removal of application-owned
	// secrets) are skipped unless the unit is leader when they are picked.
	LeaderOnly bool `yaml:"leader-only,omitempty"`
}

func lifeOf(l Life) Life {
	if l == "" {
		return Alive
	}
	return l
}
