// Package apiserver serves the controller API (internal/api/apipb) over
// gRPC with TLS. Every call is authenticated at one choke point (the
// interceptors in auth.go) and authorised per method against the entity
// the caller owns. Mutations are sent as messages to entity actors, which
// persist before they answer; reads come straight from the store.
//
// Who imports it: the controller assembly only.
package apiserver
