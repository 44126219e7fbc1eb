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
)

// defaultExecWait is how long `exec` waits without --wait (Juju's).
const defaultExecWait = 5 * time.Minute

// runExec runs a command line in units' hook context, as `juju exec
// --unit U -- CMD [ARG...]`: one argument after `--` is run as is by the
// shell; several are quoted and joined. It shares `run`'s task machinery,
// output (§5.4) and exit codes: a non-zero return code prints the task
// and fails with "task failed"; an unknown unit exits 0 with empty stdout.
func runExec(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("exec")
	fs.SetArgs("--unit <unit>|<application>/leader [--unit ...] -- <command> [<arg>...]")
	units := fs.Strings("u", "unit", "unit to run on (repeatable, or comma-separated)")
	machines := fs.Strings("", "machine", "machine to run on (not supported yet)")
	format := fs.String("", "format", "plain", "output format: plain|json|yaml")
	wait := fs.Duration("", "wait", defaultExecWait, "how long to wait for results (0: no limit)")
	model := fs.String("m", "model", "", "model of the units")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(*machines) > 0 {
		return errors.New("exec --machine is not supported yet; run the command on a unit of the machine with --unit")
	}
	receivers := cmdline.SplitCommas(*units...)
	if len(receivers) == 0 {
		return usage(errors.New("no unit specified; usage: troupe exec --unit <unit> -- <command>"))
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
