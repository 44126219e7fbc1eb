package hookcmds

import "time"

// Context is everything a hook tool may do in one running hook, action or
// juju-exec command. The unit agent creates one per hook (usually a
// *HookState over its Backend) and registers it with the hook tool server
// for the hook's lifetime.
//
// Calls are made from one goroutine at a time (the server serialises
// requests per context) and never after the hook's end func returned.
//
// Immediate vs buffered (§3.3 of the contract): methods documented
// "immediate" take effect when called and survive a failing hook; methods
// documented "buffered" are kept in the context and applied by the agent in
// one commit only if the hook exits 0. Reads of buffered data by this hook
// see its own pending writes.
//
// Errors: return the sentinels of errors.go (wrapped or not) for the cases
// they name; tools turn them into the exact text charms expect. Any other
// error is printed as "ERROR <err>" with exit code 1.
type Context interface {
	UnitContext
	StatusContext
	ConfigContext
	LeadershipContext
	RelationContext
	ActionContext
	PortContext
	NetworkContext
	StateContext
	StorageContext
	SecretContext
	ResourceContext
	RebootContext
}

// HookInfo describes the running hook. It never changes during the hook.
type HookInfo struct {
	// UnitName is the local unit, e.g. "wordpress/0".
	UnitName string
	// ModelUUID is the local model's UUID.
	ModelUUID string
	// RelationID is the hook's relation, or -1 outside relation hooks.
	RelationID int
	// RemoteUnit and RemoteApp are JUJU_REMOTE_UNIT and JUJU_REMOTE_APP.
	RemoteUnit, RemoteApp string
	// StorageID is the hook's storage instance ("data/0"), or "".
	StorageID string
	// ActionName is the running action, or "" for hooks.
	ActionName string
}

// UnitContext identifies the hook and logs.
type UnitContext interface {
	// HookInfo describes the running hook.
	HookInfo() HookInfo
	// LogMessage writes msg to the unit log at level (TRACE, DEBUG, INFO,
	// WARNING, ERROR, CRITICAL). Immediate.
	LogMessage(level, msg string) error
}

// StatusInfo is a workload status.
type StatusInfo struct {
	Status  string
	Message string
	Data    map[string]any
}

// ApplicationStatusInfo is the application's status with its units'.
type ApplicationStatusInfo struct {
	Application StatusInfo
	// Units is keyed by unit name.
	Units map[string]StatusInfo
}

// StatusContext reads and sets workload status. Setters are immediate.
type StatusContext interface {
	UnitStatus() (StatusInfo, error)
	// ApplicationStatus returns ErrNotLeader for non-leaders.
	ApplicationStatus() (ApplicationStatusInfo, error)
	SetUnitStatus(StatusInfo) error
	// SetApplicationStatus returns ErrNotLeader for non-leaders.
	SetApplicationStatus(StatusInfo) error
	// SetApplicationVersion records the workload version. Immediate.
	SetApplicationVersion(version string) error
}

// ConfigContext reads charm config.
type ConfigContext interface {
	// ConfigSettings returns every option declared by the charm; options
	// without a value or default map to nil. Values keep their YAML types
	// (string, int64, float64, bool).
	ConfigSettings() (map[string]any, error)
}

// LeadershipContext is the unit's view of leadership.
type LeadershipContext interface {
	// IsLeader reports whether the unit is leader; true guarantees
	// leadership for the lease guarantee (30 s) from the call. A false
	// answer is sticky for the rest of the hook.
	IsLeader() (bool, error)
	// LeaderSettings returns the application's leader settings.
	LeaderSettings() (map[string]string, error)
	// WriteLeaderSettings merges settings (empty value deletes); leader
	// only (else ErrNotLeader). Immediate.
	WriteLeaderSettings(settings map[string]string) error
}

// RelationInfo describes one live relation of the unit.
type RelationInfo struct {
	ID int
	// Endpoint is the local endpoint name.
	Endpoint string
	// RemoteApp is the remote application (for peers: the local one).
	RemoteApp string
	Peer      bool
	// RemoteModelUUID is the remote application's model (the local model
	// for same-model relations).
	RemoteModelUUID string
}

// RelationContext reads and writes relation data (§6 of the contract).
type RelationContext interface {
	// Relations lists the unit's live relations, sorted by ID.
	Relations() ([]RelationInfo, error)
	// Relation returns one relation or ErrRelationNotFound.
	Relation(id int) (RelationInfo, error)
	// RelationMembers returns the remote units currently joined, sorted.
	RelationMembers(id int) ([]string, error)
	// RelationSettings returns the bag of unitOrApp (an application name
	// when app is true). The unit's own bag, and its own application's bag
	// for the leader, include this hook's pending writes. A non-leader
	// reading its own application's bag on a non-peer relation gets
	// ErrPermissionDenied.
	RelationSettings(id int, unitOrApp string, app bool) (map[string]string, error)
	// UpdateRelationSettings merges changes into the unit's own bag, or its
	// application's bag when app is true (leader only, else
	// ErrCannotWriteRelationSettings). An empty value deletes. Buffered.
	UpdateRelationSettings(id int, app bool, changes map[string]string) error
}

// ActionContext is the running action. All methods return ErrNotAction
// outside actions. All are immediate (stored with the action result).
type ActionContext interface {
	// ActionParams returns the action's parameters with defaults filled.
	ActionParams() (map[string]any, error)
	// UpdateActionResults deep-merges results (nested maps of strings).
	UpdateActionResults(results map[string]any) error
	// LogActionMessage records a progress message.
	LogActionMessage(msg string) error
	// SetActionFailed marks the action failed with msg.
	SetActionFailed(msg string) error
}

// PortRange is a port range; ICMP has From == To == -1.
type PortRange struct {
	From, To int
	// Protocol is "tcp", "udp" or "icmp".
	Protocol string
}

// PortContext opens and closes ports. Endpoint "" means all endpoints.
type PortContext interface {
	// OpenPortRange opens r on endpoint. Buffered.
	OpenPortRange(endpoint string, r PortRange) error
	// ClosePortRange closes r on endpoint. Buffered.
	ClosePortRange(endpoint string, r PortRange) error
	// OpenedPortRanges returns the unit's open ports keyed by endpoint,
	// including this hook's pending changes.
	OpenedPortRanges() (map[string][]PortRange, error)
}

// NetworkInfo is the answer to network-get.
type NetworkInfo struct {
	BindAddresses    []BindAddress
	EgressSubnets    []string
	IngressAddresses []string
}

// BindAddress is one network interface of a binding.
type BindAddress struct {
	MACAddress    string
	InterfaceName string
	Addresses     []InterfaceAddress
}

// InterfaceAddress is one address on an interface.
type InterfaceAddress struct {
	Hostname string
	Value    string
	CIDR     string
}

// GoalStateStatus is one entry of goal-state.
type GoalStateStatus struct {
	Status string
	Since  *time.Time
}

// GoalState is the answer to goal-state.
type GoalState struct {
	// Units is keyed by unit name (peers of the local application).
	Units map[string]GoalStateStatus
	// Relations is keyed by endpoint, then remote application or unit.
	Relations map[string]map[string]GoalStateStatus
}

// NetworkContext answers questions about the unit's surroundings.
type NetworkContext interface {
	// NetworkInfo returns binding's network config (relationID -1 for
	// none), or ErrBindingNotFound / ErrRelationNotFound.
	NetworkInfo(binding string, relationID int) (NetworkInfo, error)
	// UnitAddress returns the unit's public or private address.
	UnitAddress(public bool) (string, error)
	GoalState() (GoalState, error)
	// CloudSpec returns the credential-get document (keys type, name,
	// region, endpoint, identity-endpoint, storage-endpoint, credential,
	// cacertificates, skip-tls-verify, is-controller-cloud), or
	// ErrNoCredential when the application is not trusted.
	CloudSpec() (map[string]any, error)
}

// StateContext is the unit's server-side charm state.
type StateContext interface {
	// CharmState returns the state including this hook's pending changes.
	CharmState() (map[string]string, error)
	// SetCharmStateValue sets key; an empty value deletes. Buffered.
	SetCharmStateValue(key, value string) error
	// DeleteCharmStateValue deletes key. Buffered.
	DeleteCharmStateValue(key string) error
}

// StorageAttachment is one attached storage instance.
type StorageAttachment struct {
	// Kind is "filesystem" or "block".
	Kind     string
	Location string
}

// StorageContext reads storage and requests more.
type StorageContext interface {
	// StorageIDs lists attached storage ids ("data/0"), sorted.
	StorageIDs() ([]string, error)
	// StorageAttachment returns one instance or ErrStorageNotFound.
	StorageAttachment(id string) (StorageAttachment, error)
	// AddStorage requests count more instances of name. Buffered.
	AddStorage(name string, count int) error
}

// SecretArgs carries secret-add/secret-set values; nil fields are unchanged.
type SecretArgs struct {
	Label       *string
	Description *string
	Expire      *time.Time
	// RotatePolicy is never|hourly|daily|weekly|monthly|quarterly|yearly.
	RotatePolicy *string
	// Owner is "application" or "unit" ("" keeps the current owner or
	// defaults to application).
	Owner string
	// Content maps keys to raw values; nil leaves the content unchanged.
	Content map[string]string
}

// SecretAccess is one grant of a secret.
type SecretAccess struct {
	Target, Scope, Role string
}

// SecretMetadata describes a secret the unit (or its application) owns.
type SecretMetadata struct {
	URI          string
	Revision     int
	Label        string
	Owner        string
	Description  string
	RotatePolicy string
	Expiry       *time.Time
	NextRotate   *time.Time
	Access       []SecretAccess
}

// SecretGrant names the grantee of secret-grant/secret-revoke.
type SecretGrant struct {
	// RelationID is the relation the grant is scoped to, or -1.
	RelationID int
	// Application and Unit narrow the grantee; both may be empty.
	Application string
	Unit        string
}

// SecretContext manages secrets. Writes are buffered; URIs of new
// secrets are allocated immediately.
type SecretContext interface {
	// CreateSecret returns the new secret's URI ("secret:<id>").
	// Application-owned secrets need leadership (ErrNotLeader).
	CreateSecret(args SecretArgs) (string, error)
	// UpdateSecret adds a revision and/or changes metadata of an owned
	// secret, else ErrSecretNotFound.
	UpdateSecret(uri string, args SecretArgs) error
	// SecretContent returns a secret's content by URI or label (either may
	// be empty, not both). refresh tracks the latest revision, peek reads
	// it without tracking. Unknown: ErrSecretNotFound.
	SecretContent(uri, label string, refresh, peek bool) (map[string]string, error)
	// SecretMetadata returns owned secrets keyed by URI, including this
	// hook's pending changes.
	SecretMetadata() (map[string]SecretMetadata, error)
	GrantSecret(uri string, g SecretGrant) error
	RevokeSecret(uri string, g SecretGrant) error
	// RemoveSecret removes one revision, or all when revision is 0.
	RemoveSecret(uri string, revision int) error
}

// ResourceContext fetches charm resources.
type ResourceContext interface {
	// ResourcePath downloads name if needed and returns its local path,
	// or ErrResourceNotFound. May block while downloading.
	ResourcePath(name string) (string, error)
}

// RebootContext requests a machine reboot.
type RebootContext interface {
	// RequestReboot asks for a reboot after the hook (now false) or as soon
	// as the hook process is killed (now true; the agent kills the hook
	// and re-queues it after the reboot). Immediate flag on the context.
	RequestReboot(now bool) error
}
