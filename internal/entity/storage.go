package entity

import "strings"

// StorageDirective is how many instances of one charm storage each unit
// gets, how big and from which pool (`deploy --storage name=pool,size,count`,
// defaults from the charm's metadata). Kept on the Application so that
// add-unit gives new units the same.
type StorageDirective struct {
	Kind    string `json:"kind"` // filesystem or block
	Pool    string `json:"pool"`
	SizeMiB uint64 `json:"size"`
	Count   int    `json:"count"`
	// Location is the charm's location; ReadOnly its read-only flag.
	Location string `json:"location,omitempty"`
	ReadOnly bool   `json:"read-only,omitempty"`
	// CountMax bounds storage-add (-1: unbounded).
	CountMax int `json:"count-max"`
}

// Storage statuses (Juju's).
const (
	StoragePending   = "pending"
	StorageAttached  = "attached"
	StorageDetaching = "detaching"
	StorageDetached  = "detached"
)

// StorageInstance is one storage instance ("data/0"). The model guardian
// is its only writer: it creates it with its unit (deploy, add-unit,
// storage-add), records the agent's attachment, and detaches or destroys
// it when its unit goes.
type StorageInstance struct {
	ID       string `json:"id"`   // "<name>/<n>"
	Name     string `json:"name"` // the charm's storage name
	Kind     string `json:"kind"` // filesystem or block
	Pool     string `json:"pool"`
	SizeMiB  uint64 `json:"size"`
	ReadOnly bool   `json:"read-only,omitempty"`
	// Life of the instance: dying once destroyed with its unit
	// (`--destroy-storage`); the document is removed when its unit is dead.
	Life   Life   `json:"life"`
	Status Status `json:"status"`
	// Unit is the unit it is attached to and Machine that unit's machine;
	// both empty once detached. AttachmentLife is the attachment's life.
	Unit           string `json:"unit,omitempty"`
	Machine        string `json:"machine,omitempty"`
	AttachmentLife Life   `json:"attachment-life,omitempty"`
	// Attached is set once the unit's agent provisioned it at Location.
	Attached bool   `json:"attached,omitempty"`
	Location string `json:"location,omitempty"`
	// Origin is "<stream>/<seq>" of the hook commit whose storage-add made
	// it, so a re-delivered commit adds nothing.
	Origin string `json:"origin,omitempty"`
	// Filesystem is the id of its filesystem ("0"), model-wide.
	Filesystem string `json:"filesystem,omitempty"`
}

// StorageKey is the key of a StorageInstance ("data/0").
func StorageKey(model, id string) string { return StoragePrefix(model) + id }

// StoragePrefix holds every StorageInstance of a model.
func StoragePrefix(model string) string { return ModelPrefix(model) + "storage/" }

// StorageName returns the storage name of an instance id ("data/0" → "data").
func StorageName(id string) string {
	name, _, _ := strings.Cut(id, "/")
	return name
}
