// Package charm reads and writes the Juju charm package format: the files
// metadata.yaml, config.yaml, actions.yaml and manifest.yaml of a charm
// directory or .charm zip archive, a unified charmcraft.yaml when a source
// tree has no metadata.yaml, and the dispatch/hooks/actions executables.
//
// # Model
//
// ReadDir and ReadArchive return a Charm: typed, validated Meta, Config,
// Actions and Manifest. Parsing is strict where a mistake would surface
// later as a confusing runtime failure (types of config defaults, relation
// scopes, reserved endpoint names, subordinate rules, action schemas) and
// lenient where Juju is (unknown keys are ignored). Errors name the file
// and the key path and, when the user must act, say what to do.
//
// Config turns user input into typed Settings (ParseSettingsStrings for
// "k=v" from the command line, ValidateSettings for YAML or JSON), and
// Settings.Hash gives the stable digest the uniter compares to decide
// whether config-changed must run. Actions.ValidateParams checks "juju
// run" parameters against an action's JSON schema (a Draft-4 subset:
// type, enum, minimum/maximum, lengths, pattern, items, nested
// properties, required, additionalProperties) and fills in defaults.
//
// FindHandler and FindActionHandler implement the dispatch-versus-hooks
// precedence: dispatch runs everything when present; else hooks/<name> or
// actions/<name>; else ErrNoHandler, which means "skip, as if it
// succeeded". A handler that is present but not executable is an error.
//
// Pack and Unpack move charm directories in and out of zip archives.
// Unpack treats the archive as hostile: it validates every entry before
// writing anything (paths, symlink targets, duplicates, sizes, counts)
// and writes through an os.Root so nothing lands outside the destination.
//
// # Boundaries
//
// Imported by the controller (deploy, refresh, config, actions), the unit
// agent (hook and action execution) and the CLI (local charm deploy). It
// depends only on the standard library and gopkg.in/yaml.v3. It never
// contacts a charm store, never runs a hook, never checks a charm's bases
// against the host (a .charm for ubuntu@24.04 reads on any Linux host),
// and never evaluates "assumes".
//
// # Testing
//
// Table tests cover every parser rule and error; testdata/ holds sample
// charm directories; fuzz targets (FuzzParseMeta, FuzzParseConfig,
// FuzzParseActions, FuzzUnpack) run their seed corpora under plain go test.
package charm
