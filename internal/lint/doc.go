// Package lint holds no code, only the repository-wide gate as tests, so that
// `go test ./...` alone decides whether the tree is acceptable:
//
//   - every Go file in the repository is gofmt clean;
//   - every package has a package doc comment;
//   - import boundaries hold: agents (machineagent, unitagent) and workers
//     never depend on the controller; providers depend on no actor, worker,
//     controller or agent code; cmd/hooktool depends on nothing but the
//     standard library and internal/hooktool/wire, and links none of the
//     standard packages that slow a process's start-up (os, time, net, fmt,
//     reflect, encoding/json).
//
// The tests read the tree through `go list` and git, so they need the go
// command on PATH (they run under `go test`, which has it). Nothing imports
// this package.
package lint
