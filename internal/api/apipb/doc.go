// Package apipb is the generated protobuf and gRPC code of the controller
// API (troupe.proto; regenerate with `make proto`). It is the wire: the
// controller's API server implements it, the CLI and agents call it
// through internal/api. It holds no logic and is never edited by hand.
package apipb
