package entity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/store"
)

// Life is the life cycle of an entity:
//
//	alive ──destroy──▶ dying ──cleanups done──▶ dead ──▶ removed
type Life string

const (
	Alive Life = "alive"
	Dying Life = "dying"
	Dead  Life = "dead"
)

// Status is one status value with its message and the time it was set.
type Status struct {
	Current string    `json:"current,omitempty"`
	Message string    `json:"message,omitempty"`
	Since   time.Time `json:"since,omitempty"`
}

// Controller is the controller-wide document.
type Controller struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

// User is a controller user.
type User struct {
	Name         string `json:"name"`
	PasswordHash string `json:"password-hash"`
	DisplayName  string `json:"display-name,omitempty"`
	// Superuser is the controller superuser (the bootstrap user admin).
	Superuser bool `json:"superuser,omitempty"`
	// Access is the user's access level per model UUID (see access.go).
	Access map[string]Access `json:"access,omitempty"`
}

// Model is a model document.
type Model struct {
	UUID   string `json:"uuid"`
	Name   string `json:"name"`
	Owner  string `json:"owner"`
	Cloud  string `json:"cloud"`
	Life   Life   `json:"life"`
	Status Status `json:"status"`
	// NextMachine is the next machine number to allocate.
	NextMachine int `json:"next-machine"`
	// Parked lists the model's entities stopped after exceeding their
	// restart intensity, by "kind/id" (e.g. "unit/mysql/0").
	Parked map[string]ParkedEntity `json:"parked,omitempty"`
	// NextRelation is the next relation id to allocate.
	NextRelation int `json:"next-relation,omitempty"`
	// NextUnits is the next unit number per application.
	NextUnits map[string]int `json:"next-units,omitempty"`
	// CharmRevisions is the next local revision per charm name.
	CharmRevisions map[string]int `json:"charm-revisions,omitempty"`
	Created        time.Time      `json:"created"`
	// NextActionID is the next operation or task id: one model-wide
	// sequence, as Juju's ("operation 1 with task 2"). Zero means 1.
	NextActionID int `json:"next-action-id,omitempty"`
	// Config holds the model settings a user set (`troupe model-config`),
	// normalised by internal/modelconfig; absent keys take its defaults.
	Config map[string]string `json:"config,omitempty"`
	// Constraints are the model's constraints (`troupe
	// set-model-constraints`), typed as internal/constraints parses them.
	Constraints map[string]any `json:"constraints,omitempty"`
	// SSHKeys are the model's authorised keys (`troupe add-ssh-key`), full
	// "type base64 comment" lines.
	SSHKeys []string `json:"ssh-keys,omitempty"`
	// NextStorage is the next storage instance number per storage name.
	NextStorage map[string]int `json:"next-storage,omitempty"`
	// NextFilesystem is the next filesystem id (status `filesystems`).
	NextFilesystem int `json:"next-filesystem,omitempty"`
}

// ParkedEntity records why and since when an entity is parked.
type ParkedEntity struct {
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
}

// Charm is an uploaded charm. The archive itself lives in the controller's
// blob directory under its SHA-256.
type Charm struct {
	URL      string `json:"url"`
	Name     string `json:"name"`
	Revision int    `json:"revision"`
	SHA256   string `json:"sha256"`
	Size     int64  `json:"size"`
	Version  string `json:"version,omitempty"`
}

// Application is an application document.
type Application struct {
	Name        string `json:"name"`
	CharmURL    string `json:"charm-url"`
	CharmName   string `json:"charm-name"`
	CharmRev    int    `json:"charm-rev"`
	CharmSHA256 string `json:"charm-sha256"`
	// Settings are the effective typed charm settings (defaults merged with
	// user values); ConfigHash is their hash.
	Settings        map[string]any `json:"settings,omitempty"`
	UserSettings    map[string]any `json:"user-settings,omitempty"`
	ConfigHash      string         `json:"config-hash"`
	Life            Life           `json:"life"`
	Leader          string         `json:"leader,omitempty"`
	LeaseExpiry     time.Time      `json:"lease-expiry,omitempty"`
	Status          Status         `json:"status"`
	WorkloadVersion string         `json:"workload-version,omitempty"`
	CharmVersion    string         `json:"charm-version,omitempty"`
	BaseName        string         `json:"base-name,omitempty"`
	BaseChannel     string         `json:"base-channel,omitempty"`
	// LeaderSettings are written by the leader with leader-set;
	// LeaderSettingsVersion counts their changes.
	LeaderSettings        map[string]string `json:"leader-settings,omitempty"`
	LeaderSettingsVersion int64             `json:"leader-settings-version,omitempty"`
	// Subordinate is set for an application of a subordinate charm: it
	// has no units of its own; one unit per related principal unit is
	// created by the subordinates worker.
	Subordinate bool `json:"subordinate,omitempty"`
	// Trust is the application-config "trust" (`troupe trust`, `deploy
	// --trust`).
	Trust bool `json:"trust,omitempty"`
	// Resources are the application's file resources: name to
	// "<sha256>/<file name>" of the blob in the controller's resource store.
	Resources map[string]string `json:"resources,omitempty"`
	// Constraints are the application's constraints (`deploy
	// --constraints`), typed as internal/constraints parses them; each
	// machine made for one of its units starts with them.
	Constraints map[string]any `json:"constraints,omitempty"`
	// Storage are the storage directives each new unit gets, by storage
	// name (internal/storage).
	Storage map[string]StorageDirective `json:"storage,omitempty"`
}

// LeaderAt reports the leader whose lease is valid at now, or "".
func (a *Application) LeaderAt(now time.Time) string {
	if a.Leader != "" && now.Before(a.LeaseExpiry) {
		return a.Leader
	}
	return ""
}

// Unit is a unit document.
type Unit struct {
	Name         string `json:"name"`
	Application  string `json:"application"`
	Machine      string `json:"machine"`
	Life         Life   `json:"life"`
	Workload     Status `json:"workload"`
	Agent        Status `json:"agent"`
	PasswordHash string `json:"password-hash,omitempty"`
	// Resolved is set by `troupe resolve`: "retry-hooks" or "no-hooks".
	Resolved string `json:"resolved,omitempty"`
	// CharmState is the charm's own key-value state (state-set/-get).
	CharmState map[string]string `json:"charm-state,omitempty"`
	// OpenPorts are the unit's open port ranges ("80/tcp") by endpoint
	// ("" means every endpoint), kept sorted.
	OpenPorts map[string][]string `json:"open-ports,omitempty"`
	// CommitStream and CommitSeq are the agent outbox stream and the last
	// hook commit applied from it.
	CommitStream string `json:"commit-stream,omitempty"`
	CommitSeq    uint64 `json:"commit-seq,omitempty"`
	// Principal is the principal unit of a subordinate unit (which then
	// lives on the principal's machine); empty for a principal unit.
	Principal string `json:"principal,omitempty"`
	// StatusSeq counts the unit's status history entries
	// (internal/statushistory), written with each status change.
	StatusSeq uint64 `json:"status-seq,omitempty"`
}

// Machine is a machine document.
type Machine struct {
	ID           string   `json:"id"`
	Life         Life     `json:"life"`
	InstanceID   string   `json:"instance-id,omitempty"`
	Agent        Status   `json:"agent"`
	Instance     Status   `json:"instance"`
	PasswordHash string   `json:"password-hash,omitempty"`
	Hostname     string   `json:"hostname,omitempty"`
	Addresses    []string `json:"addresses,omitempty"`
	BaseName     string   `json:"base-name,omitempty"`
	BaseChannel  string   `json:"base-channel,omitempty"`
	// Standalone is set on machines made by `troupe add-machine`: they are
	// kept when they host no units. A machine allocated for a unit (by
	// deploy or add-unit) is released once none of its units is left.
	Standalone bool `json:"standalone,omitempty"`
	// Constraints are the machine's own constraints (its application's
	// at creation, or `add-machine --constraints`); the provider gets
	// them over the model's (provisioner.Effective).
	Constraints map[string]any `json:"constraints,omitempty"`
	// Hardware is what the provider reports it gave the instance, in
	// constraint syntax ("cores=2 mem=1024M"); empty when unknown.
	Hardware string `json:"hardware,omitempty"`
	// PendingPasswordHash is the credential issued to the agent by a
	// rotation and not used yet: both it and PasswordHash are accepted
	// until the agent first logs in with it, which makes it the only one.
	PendingPasswordHash string `json:"pending-password-hash,omitempty"`
	// RotateCredential is set by `troupe rotate-agent-credential` until the
	// agent fetches its new credential.
	RotateCredential bool `json:"rotate-credential,omitempty"`
	// StatusSeq counts the machine's status history entries
	// (internal/statushistory), written with each status change.
	StatusSeq uint64 `json:"status-seq,omitempty"`
}

// Task statuses (Juju's action statuses):
//
//	pending ──Start──▶ running ──Finish──▶ completed | failed | error
//	   └──Cancel──▶ cancelled
const (
	TaskPending   = "pending"
	TaskRunning   = "running"
	TaskCompleted = "completed"
	TaskFailed    = "failed"
	TaskError     = "error"
	TaskCancelled = "cancelled"
)

// TaskLog is one action-log message.
type TaskLog struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// Task is one action run on one unit. Its actor is its only writer after
// the model guardian created it.
type Task struct {
	ID        string `json:"id"`
	Operation string `json:"operation"`
	Unit      string `json:"unit"`
	Action    string `json:"action"`
	// Params are validated against the charm's actions.yaml, with schema
	// defaults filled in.
	Params  map[string]any `json:"params,omitempty"`
	Status  string         `json:"status"`
	Message string         `json:"message,omitempty"`
	// Results are the action-set values (nested maps of strings) plus
	// Juju's reserved return-code, stdout and stderr.
	Results   map[string]any `json:"results,omitempty"`
	Log       []TaskLog      `json:"log,omitempty"`
	Enqueued  time.Time      `json:"enqueued"`
	Started   time.Time      `json:"started,omitempty"`
	Completed time.Time      `json:"completed,omitempty"`
}

// Finished reports whether the task reached a final status.
func (t *Task) Finished() bool {
	switch t.Status {
	case TaskCompleted, TaskFailed, TaskError, TaskCancelled:
		return true
	}
	return false
}

// Operation groups the tasks of one `troupe run` (one task per unit). It
// is written once, by the model guardian; its status is derived from its
// tasks when read.
type Operation struct {
	ID       string    `json:"id"`
	Action   string    `json:"action"`
	Summary  string    `json:"summary"`
	Tasks    []string  `json:"tasks"`
	Enqueued time.Time `json:"enqueued"`
}

// Keys.

// ControllerKey is the key of the Controller document.
const ControllerKey = store.Prefix + "controller"

// UserKey is the key of a User.
func UserKey(name string) string { return store.Prefix + "users/" + name }

// ModelsPrefix holds every Model document.
const ModelsPrefix = store.Prefix + "models/"

// ModelKey is the key of a Model document.
func ModelKey(uuid string) string { return ModelsPrefix + uuid }

// ModelNameKey maps owner/name to a model UUID.
func ModelNameKey(owner, name string) string {
	return store.Prefix + "model-names/" + owner + "/" + name
}

// ModelPrefix holds every entity of one model.
func ModelPrefix(uuid string) string { return store.Prefix + "m/" + uuid + "/" }

// ApplicationKey is the key of an Application.
func ApplicationKey(model, app string) string { return ModelPrefix(model) + "app/" + app }

// UnitKey is the key of a Unit ("app/3").
func UnitKey(model, unit string) string { return ModelPrefix(model) + "unit/" + unit }

// UnitsPrefix holds the units of one application.
func UnitsPrefix(model, app string) string { return ModelPrefix(model) + "unit/" + app + "/" }

// MachineKey is the key of a Machine.
func MachineKey(model, id string) string { return ModelPrefix(model) + "machine/" + id }

// CharmKey is the key of a Charm.
func CharmKey(model, url string) string { return ModelPrefix(model) + "charm/" + url }

// TaskKey is the key of a Task.
func TaskKey(model, id string) string { return ModelPrefix(model) + "task/" + id }

// TasksPrefix holds every Task of a model.
func TasksPrefix(model string) string { return ModelPrefix(model) + "task/" }

// OperationKey is the key of an Operation.
func OperationKey(model, id string) string { return ModelPrefix(model) + "operation/" + id }

// OperationsPrefix holds every Operation of a model.
func OperationsPrefix(model string) string { return ModelPrefix(model) + "operation/" }

// PendingTaskKey marks task id as pending on unit. The model guardian
// creates it with the task; the task's actor deletes it in the same
// transaction that moves the task out of pending. It lets a unit's watch
// and snapshot see its pending actions without reading every task.
func PendingTaskKey(model, unit, id string) string { return PendingTasksPrefix(model, unit) + id }

// PendingTasksPrefix holds the pending-task markers of one unit.
func PendingTasksPrefix(model, unit string) string {
	return ModelPrefix(model) + "pending-task/" + unit + "/"
}

// SubordinateKey maps a principal unit and a subordinate application to
// the subordinate unit made for it, so at most one exists per pair.
func SubordinateKey(model, principal, subApp string) string {
	return ModelPrefix(model) + "subordinate/" + principal + "/" + subApp
}

// Names.

var (
	appNameRE   = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]*[a-z][a-z0-9]*)*$`)
	modelNameRE = regexp.MustCompile(`^[a-z0-9]+[a-z0-9-]*$`)
)

// ValidApplicationName reports whether name is a valid application name.
func ValidApplicationName(name string) bool { return appNameRE.MatchString(name) }

// ValidModelName reports whether name is a valid model name.
func ValidModelName(name string) bool { return modelNameRE.MatchString(name) && len(name) <= 63 }

// UnitName builds "app/n".
func UnitName(app string, n int) string { return app + "/" + strconv.Itoa(n) }

// SplitUnitName splits "app/n"; ok is false for anything else.
func SplitUnitName(unit string) (app string, n int, ok bool) {
	app, num, found := strings.Cut(unit, "/")
	if !found || !ValidApplicationName(app) {
		return "", 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || strconv.Itoa(n) != num {
		return "", 0, false
	}
	return app, n, true
}

// Identities. A tag names who is calling the API:
//
//	user-<name>                 a controller user
//	machine-<id>@<model-uuid>   a machine agent
//	unit-<app>-<n>@<model-uuid> a unit agent

// Tag kinds.
const (
	KindUser    = "user"
	KindMachine = "machine"
	KindUnit    = "unit"
)

// Tag is a parsed identity.
type Tag struct {
	Kind  string
	Name  string // user name, machine id or unit name ("app/0")
	Model string // model UUID; empty for users
}

// String renders the tag.
func (t Tag) String() string {
	switch t.Kind {
	case KindUser:
		return "user-" + t.Name
	case KindUnit:
		return "unit-" + strings.ReplaceAll(t.Name, "/", "-") + "@" + t.Model
	default:
		return t.Kind + "-" + t.Name + "@" + t.Model
	}
}

// ParseTag parses a tag string.
func ParseTag(s string) (Tag, error) {
	if name, ok := strings.CutPrefix(s, "user-"); ok && name != "" {
		return Tag{Kind: KindUser, Name: name}, nil
	}
	body, model, ok := strings.Cut(s, "@")
	if !ok || model == "" {
		return Tag{}, fmt.Errorf("invalid tag %q", s)
	}
	if id, ok := strings.CutPrefix(body, "machine-"); ok && id != "" {
		return Tag{Kind: KindMachine, Name: id, Model: model}, nil
	}
	if rest, ok := strings.CutPrefix(body, "unit-"); ok {
		i := strings.LastIndex(rest, "-")
		if i > 0 {
			unit := rest[:i] + "/" + rest[i+1:]
			if _, _, ok := SplitUnitName(unit); ok {
				return Tag{Kind: KindUnit, Name: unit, Model: model}, nil
			}
		}
	}
	return Tag{}, fmt.Errorf("invalid tag %q", s)
}

// Credentials.

// NewPassword returns a random 32-byte hex password.
func NewPassword() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

// HashPassword hashes a high-entropy agent password. (Agent passwords are
// 256-bit random values, so a fast hash is sufficient; user passwords use
// the salted slow hash in the API's authenticator.)
func HashPassword(p string) string {
	sum := sha256.Sum256([]byte(p))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CheckPassword compares a password with a hash in constant time.
func CheckPassword(hash, password string) bool {
	if hash == "" {
		return false
	}
	if strings.HasPrefix(hash, scryptPrefix) {
		return checkUserPassword(hash, password)
	}
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashPassword(password))) == 1
}

// NewUUID returns a random RFC 4122 version 4 UUID.
func NewUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
