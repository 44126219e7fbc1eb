package hook

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Info describes one hook invocation: its kind and the context that kind
// needs. Fields that do not apply to the kind are empty. Info is persisted
// in the operation state; see the package doc.
type Info struct {
	Kind Kind `json:"kind" yaml:"kind"`

	// Relation hooks. RelationID is the controller's relation id (0 is a
	// valid id, so it is meaningful only for relation kinds). Endpoint is
	// this unit's endpoint name. RemoteUnit is empty for relation-created,
	// relation-broken and application-level relation-changed. RemoteApp is
	// the application on the other side (this unit's own application for
	// peer relations). DepartingUnit is set only for relation-departed: the
	// remote unit when it leaves, this unit when it is the one leaving.
	RelationID    int    `json:"relation-id,omitempty" yaml:"relation-id,omitempty"`
	Endpoint      string `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
	RemoteUnit    string `json:"remote-unit,omitempty" yaml:"remote-unit,omitempty"`
	RemoteApp     string `json:"remote-application,omitempty" yaml:"remote-application,omitempty"`
	DepartingUnit string `json:"departee,omitempty" yaml:"departee,omitempty"`
	// ChangeVersion is the settings version (unit or application databag)
	// the hook reports; the resolver records it as seen when the hook
	// commits. Not exported to the charm.
	ChangeVersion int64 `json:"change-version,omitempty" yaml:"change-version,omitempty"`

	// Workload (Pebble) hooks.
	WorkloadName string `json:"workload-name,omitempty" yaml:"workload-name,omitempty"`
	NoticeID     string `json:"notice-id,omitempty" yaml:"notice-id,omitempty"`
	NoticeType   string `json:"notice-type,omitempty" yaml:"notice-type,omitempty"`
	NoticeKey    string `json:"notice-key,omitempty" yaml:"notice-key,omitempty"`
	CheckName    string `json:"check-name,omitempty" yaml:"check-name,omitempty"`

	// Secret hooks. SecretRevision is set for secret-expired and
	// secret-remove.
	SecretURI      string `json:"secret-uri,omitempty" yaml:"secret-uri,omitempty"`
	SecretLabel    string `json:"secret-label,omitempty" yaml:"secret-label,omitempty"`
	SecretRevision int    `json:"secret-revision,omitempty" yaml:"secret-revision,omitempty"`

	// Storage hooks: the storage instance id, "<storage-name>/<n>".
	StorageID string `json:"storage-id,omitempty" yaml:"storage-id,omitempty"`
}

// Name returns the hook's name, which is both JUJU_HOOK_NAME and the file
// name under hooks/: "<endpoint>-relation-changed", "<storage>-storage-attached",
// "<container>-pebble-ready", or the bare kind for every other hook.
func (i Info) Name() string {
	switch {
	case i.Kind.IsRelation():
		return i.Endpoint + "-" + string(i.Kind)
	case i.Kind.IsStorage():
		return StorageName(i.StorageID) + "-" + string(i.Kind)
	case i.Kind.IsWorkload():
		return i.WorkloadName + "-" + string(i.Kind)
	}
	return string(i.Kind)
}

// StorageName returns the storage name of a storage instance id: "data"
// for "data/0". It returns id unchanged when id has no "/".
func StorageName(id string) string {
	name, _, _ := strings.Cut(id, "/")
	return name
}

// RelationIDString returns JUJU_RELATION_ID for a relation hook:
// "<endpoint>:<id>".
func (i Info) RelationIDString() string {
	return i.Endpoint + ":" + strconv.Itoa(i.RelationID)
}

// Validate reports whether i is a complete, consistent description of a
// hook of its kind. The error names the first problem found.
func (i Info) Validate() error {
	if err := i.validate(); err != nil {
		return fmt.Errorf("invalid %q hook info: %w", i.Kind, err)
	}
	return nil
}

func (i Info) validate() error {
	k := i.Kind
	if !k.Valid() {
		return errors.New("unknown hook kind")
	}
	relationSet := i.Endpoint != "" || i.RemoteUnit != "" || i.RemoteApp != "" || i.DepartingUnit != ""
	workloadSet := i.WorkloadName != "" || i.NoticeID != "" || i.NoticeType != "" || i.NoticeKey != "" || i.CheckName != ""
	secretSet := i.SecretURI != "" || i.SecretLabel != "" || i.SecretRevision != 0
	switch {
	case !k.IsRelation() && relationSet:
		return errors.New("relation fields set on a non-relation hook")
	case !k.IsWorkload() && workloadSet:
		return errors.New("workload fields set on a non-workload hook")
	case !k.IsSecret() && secretSet:
		return errors.New("secret fields set on a non-secret hook")
	case !k.IsStorage() && i.StorageID != "":
		return errors.New("storage id set on a non-storage hook")
	}
	switch {
	case k.IsRelation():
		return i.validateRelation()
	case k.IsStorage():
		name, num, ok := strings.Cut(i.StorageID, "/")
		if _, err := strconv.Atoi(num); !ok || name == "" || err != nil {
			return fmt.Errorf("storage id %q is not of the form <name>/<number>", i.StorageID)
		}
	case k.IsWorkload():
		if i.WorkloadName == "" {
			return errors.New("workload name is empty")
		}
		if k == PebbleCustomNotice {
			if i.NoticeID == "" || i.NoticeType == "" || i.NoticeKey == "" {
				return errors.New("notice id, type and key are required")
			}
		} else if i.NoticeID != "" || i.NoticeType != "" || i.NoticeKey != "" {
			return errors.New("notice fields set on a hook that is not pebble-custom-notice")
		}
		isCheck := k == PebbleCheckFailed || k == PebbleCheckRecovered
		if isCheck && i.CheckName == "" {
			return errors.New("check name is empty")
		}
		if !isCheck && i.CheckName != "" {
			return errors.New("check name set on a hook that is not a check hook")
		}
	case k.IsSecret():
		if i.SecretURI == "" {
			return errors.New("secret uri is empty")
		}
		needsRev := k == SecretExpired || k == SecretRemove
		if needsRev && i.SecretRevision <= 0 {
			return errors.New("secret revision must be positive")
		}
		if !needsRev && i.SecretRevision != 0 {
			return errors.New("secret revision set on a hook that is not secret-expired or secret-remove")
		}
	}
	return nil
}

func (i Info) validateRelation() error {
	switch {
	case i.Endpoint == "":
		return errors.New("endpoint is empty")
	case i.RelationID < 0:
		return fmt.Errorf("relation id %d is negative", i.RelationID)
	case i.RemoteApp == "":
		return errors.New("remote application is empty")
	}
	if i.RemoteUnit != "" && !strings.HasPrefix(i.RemoteUnit, i.RemoteApp+"/") {
		return fmt.Errorf("remote unit %q is not a unit of %q", i.RemoteUnit, i.RemoteApp)
	}
	switch i.Kind {
	case RelationCreated, RelationBroken:
		if i.RemoteUnit != "" {
			return errors.New("remote unit must be empty")
		}
	case RelationJoined:
		if i.RemoteUnit == "" {
			return errors.New("remote unit is empty")
		}
	case RelationDeparted:
		if i.RemoteUnit == "" || i.DepartingUnit == "" {
			return errors.New("remote unit and departing unit are required")
		}
	}
	if i.Kind != RelationDeparted && i.DepartingUnit != "" {
		return errors.New("departing unit set on a hook that is not relation-departed")
	}
	return nil
}

// Env returns the hook-specific environment variables of the contract
// (§3.2), keyed by name. It never includes the variables every hook gets
// (JUJU_UNIT_NAME, JUJU_HOOK_NAME, JUJU_DISPATCH_PATH, ...), nor
// JUJU_STORAGE_LOCATION and JUJU_STORAGE_KIND, which need the storage
// attachment and are added by the caller.
//
// Relation hooks always carry JUJU_RELATION, JUJU_RELATION_ID,
// JUJU_REMOTE_APP and JUJU_REMOTE_UNIT; the last is present but empty for
// relation-created, relation-broken and application-level
// relation-changed, because ops requires it to exist.
func (i Info) Env() map[string]string {
	env := map[string]string{}
	switch {
	case i.Kind.IsRelation():
		env["JUJU_RELATION"] = i.Endpoint
		env["JUJU_RELATION_ID"] = i.RelationIDString()
		env["JUJU_REMOTE_UNIT"] = i.RemoteUnit
		env["JUJU_REMOTE_APP"] = i.RemoteApp
		if i.Kind == RelationDeparted {
			env["JUJU_DEPARTING_UNIT"] = i.DepartingUnit
		}
	case i.Kind.IsStorage():
		env["JUJU_STORAGE_ID"] = i.StorageID
	case i.Kind.IsWorkload():
		env["JUJU_WORKLOAD_NAME"] = i.WorkloadName
		if i.Kind == PebbleCustomNotice {
			env["JUJU_NOTICE_ID"] = i.NoticeID
			env["JUJU_NOTICE_TYPE"] = i.NoticeType
			env["JUJU_NOTICE_KEY"] = i.NoticeKey
		}
		if i.Kind == PebbleCheckFailed || i.Kind == PebbleCheckRecovered {
			env["JUJU_PEBBLE_CHECK_NAME"] = i.CheckName
		}
	case i.Kind.IsSecret():
		env["JUJU_SECRET_ID"] = i.SecretURI
		env["JUJU_SECRET_LABEL"] = i.SecretLabel
		if i.Kind == SecretExpired || i.Kind == SecretRemove {
			env["JUJU_SECRET_REVISION"] = strconv.Itoa(i.SecretRevision)
		}
	}
	return env
}

// String returns the hook name plus the context that distinguishes two
// hooks of the same name, for logs and status: `db-relation-changed
// (db:3, remote unit "mysql/0")`.
func (i Info) String() string {
	var parts []string
	switch {
	case i.Kind.IsRelation():
		parts = append(parts, i.RelationIDString())
		if i.RemoteUnit != "" {
			parts = append(parts, fmt.Sprintf("remote unit %q", i.RemoteUnit))
		} else if i.Kind == RelationChanged {
			parts = append(parts, fmt.Sprintf("remote application %q", i.RemoteApp))
		}
		if i.DepartingUnit != "" && i.DepartingUnit != i.RemoteUnit {
			parts = append(parts, fmt.Sprintf("departing unit %q", i.DepartingUnit))
		}
	case i.Kind.IsStorage():
		parts = append(parts, i.StorageID)
	case i.Kind.IsSecret():
		parts = append(parts, i.SecretURI)
	case i.Kind == PebbleCustomNotice:
		parts = append(parts, "notice "+i.NoticeKey)
	case i.CheckName != "":
		parts = append(parts, "check "+i.CheckName)
	}
	if len(parts) == 0 {
		return i.Name()
	}
	return i.Name() + " (" + strings.Join(parts, ", ") + ")"
}
