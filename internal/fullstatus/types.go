package fullstatus

// The types below mirror Juju 3.6's formatted status. Field order is the
// key order of the output. Every field carries the same key name in its
// json and yaml tags, and omitempty in both or neither (checked by
// TestTagsAgree). "Required" in a comment means the key is always written.

// Status is the whole `status` document.
type Status struct {
	Model ModelStatus `json:"model" yaml:"model"`
	// Machines is required: written as {} when nil.
	Machines map[string]Machine `json:"machines" yaml:"machines"`
	// Applications is required: written as {} when nil.
	Applications         map[string]Application `json:"applications" yaml:"applications"`
	ApplicationEndpoints map[string]RemoteApp   `json:"application-endpoints,omitempty" yaml:"application-endpoints,omitempty"`
	Offers               map[string]Offer       `json:"offers,omitempty" yaml:"offers,omitempty"`
	Storage              *Storage               `json:"storage,omitempty" yaml:"storage,omitempty"`
	Controller           *ControllerStatus      `json:"controller,omitempty" yaml:"controller,omitempty"`

	// Integrations lists the model's relations for the tabular
	// Integration section only; like Juju, JSON and YAML do not carry it.
	Integrations []Integration `json:"-" yaml:"-"`
}

// ModelStatus is the `model` object. Name, Type, Controller, Cloud and
// Version are required.
type ModelStatus struct {
	Name             string      `json:"name" yaml:"name"`
	Type             string      `json:"type" yaml:"type"` // "iaas" or "caas"
	Controller       string      `json:"controller" yaml:"controller"`
	Cloud            string      `json:"cloud" yaml:"cloud"`
	Region           string      `json:"region,omitempty" yaml:"region,omitempty"`
	Version          string      `json:"version" yaml:"version"`
	UpgradeAvailable string      `json:"upgrade-available,omitempty" yaml:"upgrade-available,omitempty"`
	ModelStatus      *StatusInfo `json:"model-status,omitempty" yaml:"model-status,omitempty"`
	SLA              string      `json:"sla,omitempty" yaml:"sla,omitempty"`
}

// StatusInfo is one status value (application-status, workload-status,
// juju-status, machine-status, modification-status, model-status). Since is
// free text in FormatSince's layout.
type StatusInfo struct {
	Current string `json:"current,omitempty" yaml:"current,omitempty"`
	Message string `json:"message,omitempty" yaml:"message,omitempty"`
	Reason  string `json:"reason,omitempty" yaml:"reason,omitempty"`
	Since   string `json:"since,omitempty" yaml:"since,omitempty"`
	Version string `json:"version,omitempty" yaml:"version,omitempty"`
	Life    string `json:"life,omitempty" yaml:"life,omitempty"`
	// StatusError, when set, replaces the whole object with
	// {"status-error": StatusError}.
	StatusError string `json:"status-error,omitempty" yaml:"status-error,omitempty"`
}

// Base is an OS base such as ubuntu / 24.04. Both keys are required.
type Base struct {
	Name    string `json:"name" yaml:"name"`
	Channel string `json:"channel" yaml:"channel"`
}

// Application is one entry of `applications`. Charm, CharmOrigin,
// CharmName, CharmRev and Exposed are required.
type Application struct {
	Charm             string                  `json:"charm" yaml:"charm"` // name, or local:<name>-<rev>
	Base              *Base                   `json:"base,omitempty" yaml:"base,omitempty"`
	CharmOrigin       string                  `json:"charm-origin" yaml:"charm-origin"` // charmhub or local
	CharmName         string                  `json:"charm-name" yaml:"charm-name"`
	CharmRev          int                     `json:"charm-rev" yaml:"charm-rev"`
	CharmChannel      string                  `json:"charm-channel,omitempty" yaml:"charm-channel,omitempty"`
	CharmVersion      string                  `json:"charm-version,omitempty" yaml:"charm-version,omitempty"`
	CharmProfile      string                  `json:"charm-profile,omitempty" yaml:"charm-profile,omitempty"`
	CanUpgradeTo      string                  `json:"can-upgrade-to,omitempty" yaml:"can-upgrade-to,omitempty"`
	Scale             int                     `json:"scale,omitempty" yaml:"scale,omitempty"`
	ProviderID        string                  `json:"provider-id,omitempty" yaml:"provider-id,omitempty"`
	Address           string                  `json:"address,omitempty" yaml:"address,omitempty"`
	Exposed           bool                    `json:"exposed" yaml:"exposed"`
	Life              string                  `json:"life,omitempty" yaml:"life,omitempty"`
	ApplicationStatus *StatusInfo             `json:"application-status,omitempty" yaml:"application-status,omitempty"`
	Relations         map[string][]RelatedApp `json:"relations,omitempty" yaml:"relations,omitempty"` // endpoint -> partners
	SubordinateTo     []string                `json:"subordinate-to,omitempty" yaml:"subordinate-to,omitempty"`
	// Units holds a principal application's units. A subordinate
	// application has none here: its units sit in the principal units'
	// Subordinates.
	Units            map[string]Unit   `json:"units,omitempty" yaml:"units,omitempty"`
	Version          string            `json:"version,omitempty" yaml:"version,omitempty"` // workload version
	EndpointBindings map[string]string `json:"endpoint-bindings,omitempty" yaml:"endpoint-bindings,omitempty"`
	// StatusError, when set, replaces the whole object.
	StatusError string `json:"status-error,omitempty" yaml:"status-error,omitempty"`
}

// RelatedApp is one partner of an application endpoint.
type RelatedApp struct {
	RelatedApplication string `json:"related-application,omitempty" yaml:"related-application,omitempty"`
	Interface          string `json:"interface,omitempty" yaml:"interface,omitempty"`
	Scope              string `json:"scope,omitempty" yaml:"scope,omitempty"` // global or container
}

// Unit is one unit, principal or subordinate. Every key is optional;
// Leader is written only when true, as Juju does.
type Unit struct {
	WorkloadStatus *StatusInfo     `json:"workload-status,omitempty" yaml:"workload-status,omitempty"`
	JujuStatus     *StatusInfo     `json:"juju-status,omitempty" yaml:"juju-status,omitempty"`
	Leader         bool            `json:"leader,omitempty" yaml:"leader,omitempty"`
	UpgradingFrom  string          `json:"upgrading-from,omitempty" yaml:"upgrading-from,omitempty"`
	Machine        string          `json:"machine,omitempty" yaml:"machine,omitempty"`
	OpenPorts      []string        `json:"open-ports,omitempty" yaml:"open-ports,omitempty"` // 8080/tcp, icmp
	PublicAddress  string          `json:"public-address,omitempty" yaml:"public-address,omitempty"`
	Address        string          `json:"address,omitempty" yaml:"address,omitempty"`
	ProviderID     string          `json:"provider-id,omitempty" yaml:"provider-id,omitempty"`
	Subordinates   map[string]Unit `json:"subordinates,omitempty" yaml:"subordinates,omitempty"`
	// StatusError, when set, replaces the whole object.
	StatusError string `json:"status-error,omitempty" yaml:"status-error,omitempty"`
}

// Machine is one machine or container. Every key is optional.
type Machine struct {
	JujuStatus             *StatusInfo                 `json:"juju-status,omitempty" yaml:"juju-status,omitempty"`
	Hostname               string                      `json:"hostname,omitempty" yaml:"hostname,omitempty"`
	DNSName                string                      `json:"dns-name,omitempty" yaml:"dns-name,omitempty"`
	IPAddresses            []string                    `json:"ip-addresses,omitempty" yaml:"ip-addresses,omitempty"`
	InstanceID             string                      `json:"instance-id,omitempty" yaml:"instance-id,omitempty"`
	DisplayName            string                      `json:"display-name,omitempty" yaml:"display-name,omitempty"`
	MachineStatus          *StatusInfo                 `json:"machine-status,omitempty" yaml:"machine-status,omitempty"`
	ModificationStatus     *StatusInfo                 `json:"modification-status,omitempty" yaml:"modification-status,omitempty"`
	Base                   *Base                       `json:"base,omitempty" yaml:"base,omitempty"`
	NetworkInterfaces      map[string]NetworkInterface `json:"network-interfaces,omitempty" yaml:"network-interfaces,omitempty"`
	Containers             map[string]Machine          `json:"containers,omitempty" yaml:"containers,omitempty"`
	Constraints            string                      `json:"constraints,omitempty" yaml:"constraints,omitempty"`
	Hardware               string                      `json:"hardware,omitempty" yaml:"hardware,omitempty"` // "arch=amd64 cores=2 mem=4096M availability-zone=z1"
	ControllerMemberStatus string                      `json:"controller-member-status,omitempty" yaml:"controller-member-status,omitempty"`
	HAPrimary              bool                        `json:"ha-primary,omitempty" yaml:"ha-primary,omitempty"`
	LXDProfiles            map[string]LXDProfile       `json:"lxd-profiles,omitempty" yaml:"lxd-profiles,omitempty"`
	// StatusError, when set, replaces the whole object.
	StatusError string `json:"status-error,omitempty" yaml:"status-error,omitempty"`
}

// NetworkInterface is one entry of a machine's `network-interfaces`.
// IPAddresses, MACAddress and IsUp are required (IPAddresses as [] when
// nil).
type NetworkInterface struct {
	IPAddresses    []string `json:"ip-addresses" yaml:"ip-addresses"`
	MACAddress     string   `json:"mac-address" yaml:"mac-address"`
	Gateway        string   `json:"gateway,omitempty" yaml:"gateway,omitempty"`
	DNSNameservers []string `json:"dns-nameservers,omitempty" yaml:"dns-nameservers,omitempty"`
	Space          string   `json:"space,omitempty" yaml:"space,omitempty"`
	IsUp           bool     `json:"is-up" yaml:"is-up"`
}

// LXDProfile is one entry of a machine's `lxd-profiles`; every key is
// required (maps as {} when nil).
type LXDProfile struct {
	Config      map[string]string            `json:"config" yaml:"config"`
	Description string                       `json:"description" yaml:"description"`
	Devices     map[string]map[string]string `json:"devices" yaml:"devices"`
}

// RemoteApp is one consumed offer (`application-endpoints`, the tabular
// SAAS section). URL is required.
type RemoteApp struct {
	URL               string                    `json:"url" yaml:"url"` // [source:]user/model.app
	Endpoints         map[string]RemoteEndpoint `json:"endpoints,omitempty" yaml:"endpoints,omitempty"`
	Life              string                    `json:"life,omitempty" yaml:"life,omitempty"`
	ApplicationStatus *StatusInfo               `json:"application-status,omitempty" yaml:"application-status,omitempty"`
	// Relations maps an endpoint to the names of related applications
	// (plain strings, unlike Application.Relations).
	Relations map[string][]string `json:"relations,omitempty" yaml:"relations,omitempty"`
	// StatusError, when set, replaces the whole object.
	StatusError string `json:"status-error,omitempty" yaml:"status-error,omitempty"`
}

// RemoteEndpoint is an endpoint of an offer or a consumed offer; both keys
// are required.
type RemoteEndpoint struct {
	Interface string `json:"interface" yaml:"interface"`
	Role      string `json:"role" yaml:"role"` // provider, requirer, peer
}

// Offer is one entry of `offers`. Application and Endpoints are required
// (Endpoints as {} when nil).
type Offer struct {
	Application          string                    `json:"application" yaml:"application"`
	Charm                string                    `json:"charm,omitempty" yaml:"charm,omitempty"` // charm URL
	TotalConnectedCount  int                       `json:"total-connected-count,omitempty" yaml:"total-connected-count,omitempty"`
	ActiveConnectedCount int                       `json:"active-connected-count,omitempty" yaml:"active-connected-count,omitempty"`
	Endpoints            map[string]RemoteEndpoint `json:"endpoints" yaml:"endpoints"`
	// StatusError, when set, replaces the whole object.
	StatusError string `json:"status-error,omitempty" yaml:"status-error,omitempty"`
}

// Storage is the `storage` object (present with --storage).
type Storage struct {
	Storage     map[string]StorageInstance `json:"storage,omitempty" yaml:"storage,omitempty"`
	Filesystems map[string]Filesystem      `json:"filesystems,omitempty" yaml:"filesystems,omitempty"`
	Volumes     map[string]Volume          `json:"volumes,omitempty" yaml:"volumes,omitempty"`
}

// EntityStatus is the status of a storage entity.
type EntityStatus struct {
	Current string `json:"current,omitempty" yaml:"current,omitempty"`
	Message string `json:"message,omitempty" yaml:"message,omitempty"`
	Since   string `json:"since,omitempty" yaml:"since,omitempty"`
}

// StorageInstance is one entry of `storage.storage`. Kind, Status and
// Persistent are required.
type StorageInstance struct {
	Kind        string              `json:"kind" yaml:"kind"` // block or filesystem
	Life        string              `json:"life,omitempty" yaml:"life,omitempty"`
	Status      EntityStatus        `json:"status" yaml:"status"`
	Persistent  bool                `json:"persistent" yaml:"persistent"`
	Attachments *StorageAttachments `json:"attachments,omitempty" yaml:"attachments,omitempty"`
}

// StorageAttachments lists the units a storage instance is attached to;
// Units is required ({} when nil).
type StorageAttachments struct {
	Units map[string]UnitStorageAttachment `json:"units" yaml:"units"`
}

// UnitStorageAttachment is a storage attachment seen from a unit.
type UnitStorageAttachment struct {
	Machine  string `json:"machine,omitempty" yaml:"machine,omitempty"`
	Location string `json:"location,omitempty" yaml:"location,omitempty"`
	Life     string `json:"life,omitempty" yaml:"life,omitempty"`
}

// Filesystem is one entry of `storage.filesystems`. Size (MiB) is required.
type Filesystem struct {
	ProviderID  string                 `json:"provider-id,omitempty" yaml:"provider-id,omitempty"`
	Volume      string                 `json:"volume,omitempty" yaml:"volume,omitempty"`
	Storage     string                 `json:"storage,omitempty" yaml:"storage,omitempty"`
	Pool        string                 `json:"pool,omitempty" yaml:"pool,omitempty"`
	Size        int                    `json:"size" yaml:"size"`
	Life        string                 `json:"life,omitempty" yaml:"life,omitempty"`
	Status      *EntityStatus          `json:"status,omitempty" yaml:"status,omitempty"`
	Attachments *FilesystemAttachments `json:"attachments,omitempty" yaml:"attachments,omitempty"`
}

// FilesystemAttachments lists where a filesystem is attached.
type FilesystemAttachments struct {
	Machines   map[string]FilesystemAttachment  `json:"machines,omitempty" yaml:"machines,omitempty"`
	Containers map[string]FilesystemAttachment  `json:"containers,omitempty" yaml:"containers,omitempty"`
	Units      map[string]UnitStorageAttachment `json:"units,omitempty" yaml:"units,omitempty"`
}

// FilesystemAttachment is a filesystem attached to one machine; MountPoint
// and ReadOnly are required.
type FilesystemAttachment struct {
	MountPoint string `json:"mount-point" yaml:"mount-point"`
	ReadOnly   bool   `json:"read-only" yaml:"read-only"`
	Life       string `json:"life,omitempty" yaml:"life,omitempty"`
}

// Volume is one entry of `storage.volumes`. Size (MiB) and Persistent are
// required.
type Volume struct {
	ProviderID  string             `json:"provider-id,omitempty" yaml:"provider-id,omitempty"`
	Storage     string             `json:"storage,omitempty" yaml:"storage,omitempty"`
	Pool        string             `json:"pool,omitempty" yaml:"pool,omitempty"`
	HardwareID  string             `json:"hardware-id,omitempty" yaml:"hardware-id,omitempty"`
	WWN         string             `json:"wwn,omitempty" yaml:"wwn,omitempty"`
	Size        int                `json:"size" yaml:"size"`
	Persistent  bool               `json:"persistent" yaml:"persistent"`
	Life        string             `json:"life,omitempty" yaml:"life,omitempty"`
	Status      *EntityStatus      `json:"status,omitempty" yaml:"status,omitempty"`
	Attachments *VolumeAttachments `json:"attachments,omitempty" yaml:"attachments,omitempty"`
}

// VolumeAttachments lists where a volume is attached.
type VolumeAttachments struct {
	Machines   map[string]VolumeAttachment      `json:"machines,omitempty" yaml:"machines,omitempty"`
	Containers map[string]VolumeAttachment      `json:"containers,omitempty" yaml:"containers,omitempty"`
	Units      map[string]UnitStorageAttachment `json:"units,omitempty" yaml:"units,omitempty"`
}

// VolumeAttachment is a volume attached to one machine; ReadOnly is
// required.
type VolumeAttachment struct {
	ReadOnly   bool   `json:"read-only" yaml:"read-only"`
	Device     string `json:"device,omitempty" yaml:"device,omitempty"`
	DeviceLink string `json:"device-link,omitempty" yaml:"device-link,omitempty"`
	BusAddress string `json:"bus-address,omitempty" yaml:"bus-address,omitempty"`
	Life       string `json:"life,omitempty" yaml:"life,omitempty"`
}

// ControllerStatus is the `controller` object. Timestamp is the time the
// status was taken, in FormatTimestamp's layout.
type ControllerStatus struct {
	Timestamp string `json:"timestamp,omitempty" yaml:"timestamp,omitempty"`
}

// Integration is one relation as the tabular Integration section shows it.
// It is not part of the JSON/YAML document.
type Integration struct {
	Provider  string // "app:endpoint" of the providing side
	Requirer  string // "app:endpoint" of the requiring side (same as Provider's app for peers)
	Interface string
	Type      string // regular, peer or subordinate
	Status    string // joining, joined, broken, suspended, error, ...
	Message   string
}
