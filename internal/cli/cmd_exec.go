package cli

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/entity"
)

// defaultExecWait is how long `exec` waits without --wait (Juju's).
const defaultExecWait = 5 * time.Minute

// runExec runs a command line in units' hook context, as `juju exec
// --unit U -- CMD [ARG...]`, or on machines (`--machine 0`, run by the
// machine agent as root, outside any hook context): one argument after `--` is run as is by the
// shell; several are quoted and joined. It shares `run`'s task machinery,
// output (§5.4) and exit codes: a non-zero return code prints the task
// and fails with "task failed"; an unknown unit exits 0 with empty stdout.
func runExec(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("exec")
	fs.SetArgs("--unit <unit>|<application>/leader [--unit ...] | --machine <id> [--machine ...] -- <command> [<arg>...]")
	units := fs.Strings("u", "unit", "unit to run on (repeatable, or comma-separated)")
	machines := fs.Strings("", "machine", "machine to run on, e.g. 0 or 0/lxd/0 (repeatable, or comma-separated)")
	format := fs.String("", "format", "plain", "output format: plain|json|yaml")
	wait := fs.Duration("", "wait", defaultExecWait, "how long to wait for results (0: no limit)")
	model := fs.String("m", "model", "", "model of the units")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	receivers, err := execReceivers(cmdline.SplitCommas(*units...), cmdline.SplitCommas(*machines...))
	if err != nil {
		return usage(err)
	}
	if len(rest) == 0 {
		return usage(errors.New("no command specified; usage: troupe exec --unit <unit> -- <command>"))
	}
	if err := checkFormat(*format, "plain", "json", "yaml"); err != nil {
		return err
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	res, err := conn.EnqueueExec(ctx, &apipb.EnqueueExecRequest{Model: m, Receivers: receivers, Command: commandLine(rest)})
	cancel()
	if status.Code(err) == codes.NotFound {
		fmt.Fprintf(env.Stderr, "Operation failed to schedule any tasks:\n%s\n", status.Convert(err).Message())
		return nil
	}
	if err != nil {
		return apiError(err)
	}
	return awaitTasks(env, conn, m, res, *wait, *format)
}

// execReceivers checks exec's targets: units or machines, not both, not
// neither; machine ids must look like 0 or 0/lxd/0.
func execReceivers(units, machines []string) ([]string, error) {
	switch {
	case len(units) > 0 && len(machines) > 0:
		return nil, errors.New("--unit and --machine cannot be combined; run one exec per kind of target")
	case len(machines) > 0:
		for _, m := range machines {
			if !entity.IsMachineID(m) {
				return nil, fmt.Errorf("invalid machine id %q: expected a number such as 0, or a container such as 0/lxd/0", m)
			}
		}
		return machines, nil
	case len(units) > 0:
		return units, nil
	}
	return nil, errors.New("no unit or machine specified; usage: troupe exec --unit <unit> -- <command>, or troupe exec --machine <id> -- <command>")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// commandLine joins exec's arguments into one shell line: a single
// argument is the line itself; otherwise each argument the shell would
// split or expand is single-quoted.
func commandLine(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		if shellSafe.MatchString(a) {
			quoted[i] = a
		} else {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'"'"'`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}
