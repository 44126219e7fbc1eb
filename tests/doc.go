// Package tests holds Troupe's end-to-end tests. They build the real troupe,
// trouped and hooktool binaries once, then drive them as a user would: a
// fresh TROUPE_HOME per test, `troupe bootstrap` on a free port, deploys of
// the charms under testcharms/, `troupe status --format=json` read with
// Juju's key names, and `troupe destroy-controller` at the end.
//
// The package has no non-test code and nothing imports it. The tests never
// reach into Troupe's packages: everything they learn comes from the CLI, the
// files charms write in their unit directories and the agents' log files.
// Every process a test starts is killed when the test ends, pass or fail.
//
// Tests run one at a time, except the longest ones that spend most of
// their time waiting on agents (offline cut-offs, container boots): they
// call t.Parallel, so after the serial tests they run -parallel (GOMAXPROCS)
// at a time. Such a test must keep to its own TROUPE_HOME and free ports
// and must not use t.Setenv.
package tests
