// Package store is the controller's durable state: an embedded etcd server
// living in the controller's data directory, and a small typed layer over it.
//
// The model: every write goes through Commit, an etcd transaction fenced on
// the controller's epoch. At Open a controller increments the epoch key and
// remembers the value it wrote; a Commit succeeds only while the epoch key
// still holds that value. A controller that has been superseded (a second
// controller opened the same store, or a stale process woke up after a
// pause) therefore can never write: its Commit returns ErrFenced and the
// caller must stop acting as the controller.
//
// Values are JSON documents. Keys are plain strings under Prefix; the key
// layout is owned by the packages that define the documents (see keys.go
// for the shared ones).
//
// Who imports it: the controller assembly, its actors and workers. Agents
// never do: they reach state only through the API.
//
// What it never does: it never retries a failed write on its own and never
// swallows an error; a write either commits and returns its revision, or
// returns an error and changes nothing.
package store
