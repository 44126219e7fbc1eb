// Command troupe is the Troupe CLI, compatible with the juju CLI's verbs,
// flags and output formats.
package main

import (
	"os"

	"github.com/troupe-dev/troupe/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args, os.Stdout, os.Stderr)) }
