// Package opstate stores the uniter's operation state (resolver.State) in
// a local file, durably and atomically.
//
// Save writes the state as JSON to a temporary file in the same
// directory, fsyncs it, renames it over the state file and fsyncs the
// directory, so after a crash at any instant the file holds either the old
// or the new state, never a mix. Save skips the write when the state is
// unchanged since the last Save or Load. Fields of resolver.State tagged
// `json:"-"` are in-memory only and are not stored.
//
// A file that cannot be parsed or fails validation is reported as an
// error naming the file; it is never silently reset, because resetting
// would re-run install on a deployed unit.
//
// Imported by the uniter worker, which implements resolver.Persister with
// *Store. This package never decides anything about the state it stores
// and never talks to the controller.
package opstate
