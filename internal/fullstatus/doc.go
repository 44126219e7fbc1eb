// Package fullstatus defines the document `troupe status` prints, key for
// key the one Juju 3.6 prints for `juju status --format json|yaml`, and
// renders it as JSON, YAML or Juju's tabular layout.
//
// # The document
//
// Status is the whole document; its nested types follow Juju's
// formatted-status shapes (cli-contract §5.1, juju-contract §10). JSON and
// YAML use the same kebab-case key names. Tools such as jubilant read the
// JSON by key, so the types keep three promises, pinned by tests:
//
//   - Required keys are always present: `machines` and `applications` are
//     `{}` when empty, never absent or null; required nested maps and lists
//     (a network interface's `ip-addresses`, an offer's `endpoints`, …)
//     likewise.
//   - Optional maps and lists are omitted when empty, so `null` never
//     appears where a map or list is expected.
//   - Integers (`charm-rev`, `scale`, `size`, counts) are JSON numbers.
//
// Any Application, Unit, Machine, RemoteApp, Offer or StatusInfo whose
// StatusError field is set is written as the single-key object
// `{"status-error": "<text>"}`, Juju's stand-in for an entity whose status
// could not be read.
//
// The tabular view needs facts the JSON does not carry (which side of an
// integration provides it); those sit in fields tagged `json:"-"`
// (Status.Integrations).
//
// # Helpers
//
// DeriveApplicationStatus computes an application's status from its units
// the way Juju does when the leader set none. FormatSince and
// FormatTimestamp render times in Juju's layouts. NaturalLess orders names
// so that app/2 sorts before app/10.
//
// # Boundaries
//
// The package is pure: it builds no documents itself, talks to no
// controller, and reads no clock (callers pass times in). It is imported by
// the CLI's status command and by whatever assembles a Status from the
// controller's reply; it imports only the standard library and
// gopkg.in/yaml.v3.
package fullstatus
