// Package hook names the hooks a charm can receive and describes one hook
// invocation.
//
// A hook is identified by its Kind (install, relation-changed,
// pebble-ready, ...) plus the context that kind needs: the relation and
// remote unit for relation hooks, the container for Pebble hooks, the
// secret for secret hooks, the storage instance for storage hooks. Info
// carries that context, computes the hook's JUJU_HOOK_NAME (Name), checks
// that the context is complete (Validate), and renders the hook-specific
// JUJU_* environment variables of the contract, §3.2 (Env).
//
// Info is persisted as part of the uniter's operation state, so its JSON
// and YAML field names are a storage format: add fields, never rename them.
//
// Imported by the uniter resolver, the operation-state store and the
// uniter worker (which adds the always-set variables: unit, model, socket,
// dispatch path). This package never performs IO and never decides which
// hook runs next; that is the resolver's job.
package hook
