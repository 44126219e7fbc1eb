package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// logLineOptions are debug-log's display flags.
type logLineOptions struct {
	ms, date bool
	loc      *time.Location // local time unless --utc
}

// formatLogLine renders a record as `juju debug-log` does:
//
//	unit-mysql-0: 12:34:56 INFO juju.worker.uniter.operation ran "install" hook
func formatLogLine(r *apipb.LogRecord, o logLineOptions) string {
	layout := "15:04:05"
	if o.ms {
		layout += ".000"
	}
	if o.date {
		layout = "2006-01-02 " + layout
	}
	ts := time.Unix(0, r.TimeUnixNano).In(o.loc).Format(layout)
	return fmt.Sprintf("%s: %s %s %s %s", r.Entity, ts, r.Level, r.Module, r.Message)
}

func runDebugLog(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("debug-log")
	include := fs.Strings("i", "include", "only show lines of these entities (unit-a-0, a/0, a, machine-0; repeatable, comma-separated)")
	exclude := fs.Strings("x", "exclude", "hide lines of these entities")
	includeModule := fs.Strings("", "include-module", "only show lines of these modules (prefixes, e.g. juju.worker.uniter)")
	excludeModule := fs.Strings("", "exclude-module", "hide lines of these modules")
	level := fs.String("l", "level", "", "minimum level: TRACE, DEBUG, INFO, WARNING, ERROR or CRITICAL")
	replay := fs.Bool("", "replay", false, "start from the oldest line kept")
	lines := fs.Int("n", "lines", 10, "show this many recent lines first")
	limit := fs.Int("", "limit", 0, "print at most this many lines and exit (0: every line kept)")
	noTail := fs.Bool("", "no-tail", false, "exit once the existing lines are shown")
	ms := fs.Bool("", "ms", false, "show milliseconds")
	utc := fs.Bool("", "utc", false, "show times in UTC")
	date := fs.Bool("", "date", false, "show dates")
	model := fs.String("m", "model", "", "model whose log to show")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usage(fmt.Errorf("unexpected argument %q; see `troupe debug-log --help`", rest[0]))
	}
	if *lines < 0 || *limit < 0 {
		return usage(errors.New("--lines and --limit take a number of lines, 0 or more"))
	}
	opts := logLineOptions{ms: *ms, date: *date, loc: time.Local}
	if *utc {
		opts.loc = time.UTC
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	req := &apipb.DebugLogRequest{Model: m, Include: cmdline.SplitCommas(*include...), Exclude: cmdline.SplitCommas(*exclude...),
		IncludeModule: cmdline.SplitCommas(*includeModule...), ExcludeModule: cmdline.SplitCommas(*excludeModule...),
		Level: *level, Replay: *replay, Lines: int32(*lines), NoTail: *noTail, Limit: int32(*limit), HasLimit: fs.IsSet("limit")}
	stream, err := conn.DebugLog(ctx, req)
	if err != nil {
		return apiError(err)
	}
	for {
		r, err := stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case ctx.Err() != nil:
			return nil // interrupted
		case status.Code(err) == codes.Unavailable:
			return fmt.Errorf("lost the connection to the controller (%s); run `troupe debug-log` again once it is up", status.Convert(err).Message())
		case err != nil:
			return apiError(err)
		}
		if _, err := fmt.Fprintln(env.Stdout, formatLogLine(r, opts)); err != nil {
			return nil // stdout closed (e.g. piped into head)
		}
	}
}
