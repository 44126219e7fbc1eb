// Package pebble runs a unit's workload containers: one Pebble daemon
// (the binary built from github.com/canonical/pebble, driven with its
// client package) per container the charm's metadata.yaml declares, the
// way a Kubernetes sidecar charm has one per workload container.
//
// # Problem
//
// Sidecar charms (juju-contract.md §1.1, §2.1) talk to Pebble over
// /charm/containers/<name>/pebble.socket and react to
// <name>-pebble-ready, -pebble-custom-notice, -pebble-check-failed and
// -pebble-check-recovered. Those hooks must run exactly once per event,
// across agent crashes.
//
// # Model
//
// Run polls the deployed charm's metadata and keeps one supervisor
// goroutine per declared container. A supervisor starts
// `pebble run --create-dirs` with PEBBLE=<unit>/pebble/<name> and
// PEBBLE_SOCKET=ContainersDir(unit)/<name>/pebble.socket in a session of
// its own, so the daemon (and its services) outlive an agent killed with
// SIGKILL; the restarted agent adopts it through its pid file. A daemon
// that exits is started again. When the worker stops (the unit agent is
// shut down or the unit is dead), it stops its daemons.
//
// Events go to a Queue, the durable hand-off to the uniter:
//
//   - pebble-ready when a daemon process (boot id, pid, start time)
//     answers for the first time; adopting a running daemon queues
//     nothing;
//   - notices, long-polled with WaitNotices after a persisted cursor,
//     mapped by the pure NoticeHook.
//
// The uniter reads Queue.Events into resolver.Snapshot.WorkloadEvents
// and acknowledges what it ran (see Queue).
//
// Who imports it: unitagent. It imports no other worker except the
// uniter's pure hook and resolver types.
package pebble
