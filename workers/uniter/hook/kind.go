package hook

// Kind is a hook kind as named in the charm contract (§2.1), without any
// endpoint, storage or container prefix.
type Kind string

// Unit lifecycle hooks.
const (
	Install       Kind = "install"
	Start         Kind = "start"
	ConfigChanged Kind = "config-changed"
	UpgradeCharm  Kind = "upgrade-charm"
	UpdateStatus  Kind = "update-status"
	Stop          Kind = "stop"
	Remove        Kind = "remove"
)

// Leadership hooks. LeaderDeposed is defined by the contract but never run.
const (
	LeaderElected         Kind = "leader-elected"
	LeaderSettingsChanged Kind = "leader-settings-changed"
	LeaderDeposed         Kind = "leader-deposed"
)

// Relation hooks; the hook name is "<endpoint>-<kind>".
const (
	RelationCreated  Kind = "relation-created"
	RelationJoined   Kind = "relation-joined"
	RelationChanged  Kind = "relation-changed"
	RelationDeparted Kind = "relation-departed"
	RelationBroken   Kind = "relation-broken"
)

// Storage hooks; the hook name is "<storage-name>-<kind>".
const (
	StorageAttached  Kind = "storage-attached"
	StorageDetaching Kind = "storage-detaching"
)

// Workload (Pebble) hooks; the hook name is "<container>-<kind>".
const (
	PebbleReady          Kind = "pebble-ready"
	PebbleCustomNotice   Kind = "pebble-custom-notice"
	PebbleCheckFailed    Kind = "pebble-check-failed"
	PebbleCheckRecovered Kind = "pebble-check-recovered"
)

// Secret hooks.
const (
	SecretChanged Kind = "secret-changed"
	SecretRotate  Kind = "secret-rotate"
	SecretExpired Kind = "secret-expired"
	SecretRemove  Kind = "secret-remove"
)

// Legacy hooks (Juju 3.6 only; kept so persisted state and charms naming
// them stay valid).
const (
	CollectMetrics     Kind = "collect-metrics"
	MeterStatusChanged Kind = "meter-status-changed"
	PreSeriesUpgrade   Kind = "pre-series-upgrade"
	PostSeriesUpgrade  Kind = "post-series-upgrade"
)

var kinds = map[Kind]bool{
	Install: true, Start: true, ConfigChanged: true, UpgradeCharm: true,
	UpdateStatus: true, Stop: true, Remove: true,
	LeaderElected: true, LeaderSettingsChanged: true, LeaderDeposed: true,
	RelationCreated: true, RelationJoined: true, RelationChanged: true,
	RelationDeparted: true, RelationBroken: true,
	StorageAttached: true, StorageDetaching: true,
	PebbleReady: true, PebbleCustomNotice: true, PebbleCheckFailed: true,
	PebbleCheckRecovered: true,
	SecretChanged:        true, SecretRotate: true, SecretExpired: true, SecretRemove: true,
	CollectMetrics: true, MeterStatusChanged: true,
	PreSeriesUpgrade: true, PostSeriesUpgrade: true,
}

// Valid reports whether k is a hook kind of the contract.
func (k Kind) Valid() bool { return kinds[k] }

// IsRelation reports whether k is a relation hook.
func (k Kind) IsRelation() bool {
	switch k {
	case RelationCreated, RelationJoined, RelationChanged, RelationDeparted, RelationBroken:
		return true
	}
	return false
}

// IsStorage reports whether k is a storage hook.
func (k Kind) IsStorage() bool { return k == StorageAttached || k == StorageDetaching }

// IsWorkload reports whether k is a Pebble workload hook.
func (k Kind) IsWorkload() bool {
	switch k {
	case PebbleReady, PebbleCustomNotice, PebbleCheckFailed, PebbleCheckRecovered:
		return true
	}
	return false
}

// IsSecret reports whether k is a secret hook.
func (k Kind) IsSecret() bool {
	switch k {
	case SecretChanged, SecretRotate, SecretExpired, SecretRemove:
		return true
	}
	return false
}
