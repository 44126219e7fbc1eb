// Package uniter is the unit agent's reconciler: it watches the unit's
// remote state through the API, asks the pure resolver (resolver.NextOp)
// what to do next, and executes that operation (resolver.Executor) by
// deploying the charm and running hooks under the machine lock, with the
// hook-tool server serving the hook's context.
//
// Who imports it: unitagent only. It never imports controller code; the
// API (internal/api) is its only view of the model.
package uniter
