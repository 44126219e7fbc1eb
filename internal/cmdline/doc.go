// Package cmdline parses the argv of one troupe CLI command with Juju's
// flag grammar, and turns the small structured arguments Juju commands take
// (key=value lists, comma lists, model references) into typed values.
//
// # Grammar
//
// The grammar is the one Juju's gnuflag-based commands accept, and the one
// jubilant (the Python test library that drives `juju`) relies on:
//
//   - Flags may appear anywhere among the positional arguments
//     ("interspersed"): `show-unit u/0 --format json` and
//     `show-unit --format json u/0` are the same command.
//   - Long flags are written `--name value` or `--name=value`; short
//     (one-letter) flags `-n 3`, `-n=3` or `-n3`. One-letter boolean flags
//     may be grouped: `-fv`.
//   - A value flag always takes the next token verbatim, even when it starts
//     with a dash (`--info -x`), exactly like Go's flag package.
//   - Boolean flags are plain switches; `--force=true` and `--force=false`
//     are also accepted. A boolean never consumes the next token.
//   - `--` ends flag parsing: everything after it is positional. A lone `-`
//     is a positional (the usual "standard input" argument).
//   - List flags (Strings) accumulate over repeated occurrences:
//     `--config a=1 --config b=2` yields [a=1 b=2]. Scalar flags given twice
//     keep the last value. Comma-joined lists inside one value are left to
//     the command; SplitCommas splits them.
//   - `-h` and `--help` make Parse return ErrHelp, unless the command
//     defined a flag of that name itself.
//   - StopAtFirstPositional switches to `ssh` mode: flag parsing ends at the
//     first positional, so `ssh ubuntu/0 -i KEY` passes `-i KEY` through.
//
// Error texts are Juju's: `option provided but not defined: --x`,
// `flag needs an argument: --x`, `invalid value "abc" for flag -n: ...`.
//
// # Usage
//
//	fs := cmdline.NewFlagSet("deploy")
//	n := fs.Int("n", "num-units", 1, "number of units to add")
//	cfg := fs.Strings("", "config", "charm config as key=value (repeatable)")
//	args, err := fs.Parse(argv) // argv without the program and verb
//	if errors.Is(err, cmdline.ErrHelp) { fmt.Print(fs.Usage()); return nil }
//	settings, err := cmdline.ParseKeyValues(*cfg)
//
// # Boundaries
//
// This package is pure: it performs no IO, reads no environment and keeps no
// global state. It is imported by the CLI (cmd/troupe and the command
// packages under it); nothing below the CLI layer should need it. It never
// resolves a ModelRef against a client store: a missing controller or user
// part is left empty for the caller to fill in.
package cmdline
