package entity

import "time"

// Secret owner kinds.
const (
	SecretOwnerModel       = "model"
	SecretOwnerApplication = "application"
	SecretOwnerUnit        = "unit"
)

// Secret is one secret of a model: its owner, metadata, revisions, grants
// and what each consumer unit tracks. Content is sealed by the API server
// before it reaches the document (SecretRevision.Content is opaque here).
type Secret struct {
	ID string `json:"id"` // bare id; the URI is "secret:" + ID
	// OwnerKind is model, application or unit; Owner names the
	// application or unit ("" for the model).
	OwnerKind   string `json:"owner-kind"`
	Owner       string `json:"owner,omitempty"`
	Name        string `json:"name,omitempty"`  // user secrets
	Label       string `json:"label,omitempty"` // the owner's label
	Description string `json:"description,omitempty"`
	Rotate      string `json:"rotate,omitempty"`
	// AutoPrune (user secrets, update-secret --auto-prune) removes
	// revisions other than the latest as soon as no consumer tracks them.
	AutoPrune bool       `json:"auto-prune,omitempty"`
	Expire    *time.Time `json:"expire,omitempty"`
	Created   time.Time  `json:"created"`
	Updated   time.Time  `json:"updated"`
	// Removed marks a secret removed whole; the tombstone keeps a
	// redelivered hook commit from creating it again.
	Removed   bool                       `json:"removed,omitempty"`
	Revisions []SecretRevision           `json:"revisions,omitempty"`
	Grants    []SecretGrant              `json:"grants,omitempty"`
	Consumers map[string]*SecretConsumer `json:"consumers,omitempty"`
	// OwnerNotified holds the obsolete revisions the owner was told of
	// with secret-remove.
	OwnerNotified []int `json:"owner-notified,omitempty"`
	// ExpiredNotified holds the expired revisions the owner was told of
	// with secret-expired; LastRotated is when secret-rotate last ran
	// (rotation is next due one policy period after it, or after Created).
	ExpiredNotified []int      `json:"expired-notified,omitempty"`
	LastRotated     *time.Time `json:"last-rotated,omitempty"`
	// Applied records per writing unit the last hook commit applied, so
	// a redelivered commit changes nothing.
	Applied map[string]SecretCommit `json:"applied,omitempty"`
}

// SecretRevision is one revision's content (sealed) and times.
type SecretRevision struct {
	Revision int        `json:"revision"`
	Created  time.Time  `json:"created"`
	Updated  time.Time  `json:"updated"`
	Expire   *time.Time `json:"expire,omitempty"`
	Content  []byte     `json:"content"`
}

// SecretGrant gives an application (or one unit) read access. A grant
// made over a relation (RelationID ≥ 0) lasts as long as the relation.
type SecretGrant struct {
	Target     string `json:"target"` // application or unit name
	Unit       bool   `json:"unit,omitempty"`
	RelationID int    `json:"relation-id"`
	Role       string `json:"role"` // view
}

// SecretConsumer is what one unit tracks of a secret it was granted.
type SecretConsumer struct {
	Tracked  int    `json:"tracked"`            // revision secret-get returns
	Notified int    `json:"notified,omitempty"` // latest revision secret-changed ran for
	Label    string `json:"label,omitempty"`
}

// SecretCommit identifies a unit's hook commit.
type SecretCommit struct {
	Stream string `json:"stream"`
	Seq    uint64 `json:"seq"`
}

// URI is the secret's URI.
func (s *Secret) URI() string { return "secret:" + s.ID }

// Latest is the latest revision number (0 when none is left).
func (s *Secret) Latest() int {
	n := 0
	for _, r := range s.Revisions {
		n = max(n, r.Revision)
	}
	return n
}

// Revision returns revision n, or nil.
func (s *Secret) Revision(n int) *SecretRevision {
	for i := range s.Revisions {
		if s.Revisions[i].Revision == n {
			return &s.Revisions[i]
		}
	}
	return nil
}

// SecretKey is the document of secret id in model.
func SecretKey(model, id string) string { return SecretsPrefix(model) + id }

// SecretsPrefix holds a model's secrets.
func SecretsPrefix(model string) string { return ModelPrefix(model) + "secret/" }

// SecretKeyFile names the controller's secret sealing key inside its data
// directory.
const SecretKeyFile = "secrets.key"
