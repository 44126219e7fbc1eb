package hookcmds

import "errors"

// Sentinel errors a Context (or Backend) returns. Tools print them with the
// exact wording charms and ops match on, so implementations must return
// these values (wrapped is fine) rather than their own text.
var (
	// ErrRelationNotFound: no live relation with that id. Rendered
	// "relation not found".
	ErrRelationNotFound = errors.New("relation not found")
	// ErrNotLeader: a leader-only write by a non-leader. Rendered text
	// contains "not the leader".
	ErrNotLeader = errors.New("this unit is not the leader")
	// ErrPermissionDenied: a non-leader reading its own application's bag
	// on a non-peer relation, or another access the unit may not make.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrCannotWriteRelationSettings: relation-set --app by a non-leader.
	ErrCannotWriteRelationSettings = errors.New("cannot write relation settings")
	// ErrSecretNotFound: no such secret, or not visible to this unit.
	// Tools render `secret "<id>" not found`.
	ErrSecretNotFound = errors.New("secret not found")
	// ErrBindingNotFound: network-get for an unknown binding. Tools render
	// `no network config found for binding "<name>"`.
	ErrBindingNotFound = errors.New("binding not found")
	// ErrStorageNotFound: no storage attachment with that id.
	ErrStorageNotFound = errors.New("storage not found")
	// ErrResourceNotFound: the charm declares no such resource.
	ErrResourceNotFound = errors.New("resource not found")
	// ErrNotAction: an action tool outside an action.
	ErrNotAction = errors.New("not running an action")
	// ErrNoCredential: credential-get for an application without --trust.
	ErrNoCredential = errors.New("cannot access cloud credentials: application is not trusted; run \"juju trust <application>\"")
)
