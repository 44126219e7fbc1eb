package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// StatusLogEntry is one entry as `show-status-log --format json|yaml`
// prints it.
type StatusLogEntry struct {
	Time    string `json:"time" yaml:"time"`
	Type    string `json:"type" yaml:"type"`
	Status  string `json:"status" yaml:"status"`
	Message string `json:"message" yaml:"message"`
}

// defaultStatusLogCount is how many entries show-status-log prints when
// none of -n, --days and --from-date is given (Juju's default).
const defaultStatusLogCount = 20

// runShowStatusLog prints the status history of a unit or machine
// (Juju's show-status-log), from what the controller recorded with each
// status change.
func runShowStatusLog(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("show-status-log")
	fs.SetArgs("<unit>|<machine-id>")
	typ := fs.String("", "type", "", "statuses shown: unit (workload and juju-unit, a unit's default), workload, juju-unit, machine, juju-machine (a machine's default is both)")
	n := fs.Int("n", "", 0, "show the last N entries (default 20; not with --days or --from-date)")
	days := fs.Int("", "days", 0, "show the entries of the past N days")
	fromDate := fs.String("", "from-date", "", "show the entries since this date (YYYY-MM-DD)")
	format := fs.String("", "format", "tabular", "output format: tabular|json|yaml")
	utc := fs.Bool("", "utc", false, "show times in UTC")
	fs.Bool("", "include-status-updates", false, "accepted for compatibility (update-status runs record no status)")
	model := fs.String("m", "model", "", "model of the entity")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(errors.New("expected one unit name or machine id, e.g. `troupe show-status-log hello/0`"))
	}
	switch *format {
	case "tabular", "json", "yaml":
	default:
		return usage(fmt.Errorf("invalid --format %q: use tabular, json or yaml", *format))
	}
	req, err := statusLogRequest(rest[0], *typ, *n, *days, *fromDate, time.Now())
	if err != nil {
		return usage(err)
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	req.Model = m
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.StatusHistory(ctx, req)
	if err != nil {
		return apiError(err)
	}
	entries := make([]StatusLogEntry, 0, len(res.Entries))
	for _, e := range res.Entries {
		t := time.Unix(0, e.SinceUnixNano)
		if *utc {
			t = t.UTC()
		} else {
			t = t.Local()
		}
		entries = append(entries, StatusLogEntry{Time: t.Format("02 Jan 2006 15:04:05Z07:00"), Type: e.Type, Status: e.Status, Message: e.Message})
	}
	switch *format {
	case "json":
		return json.NewEncoder(env.Stdout).Encode(entries)
	case "yaml":
		return writeYAML(env.Stdout, entries)
	}
	return writeStatusLog(env.Stdout, entries)
}

// statusLogRequest turns the command's arguments into a request (model
// unset): -n, --days and --from-date exclude each other; none means the
// last 20.
func statusLogRequest(entity, typ string, n, days int, fromDate string, now time.Time) (*apipb.StatusHistoryRequest, error) {
	set := 0
	for _, b := range []bool{n != 0, days != 0, fromDate != ""} {
		if b {
			set++
		}
	}
	if set > 1 {
		return nil, errors.New("-n, --days and --from-date cannot be combined; give one of them")
	}
	if n < 0 || days < 0 {
		return nil, errors.New("-n and --days must be positive numbers")
	}
	req := &apipb.StatusHistoryRequest{Entity: entity, Type: typ, Last: int32(n)}
	switch {
	case days > 0:
		req.FromUnixNano = now.Add(-time.Duration(days) * 24 * time.Hour).UnixNano()
	case fromDate != "":
		d, err := time.ParseInLocation("2006-01-02", fromDate, time.Local)
		if err != nil {
			return nil, fmt.Errorf("invalid --from-date %q: expected YYYY-MM-DD, e.g. %s", fromDate, now.Format("2006-01-02"))
		}
		req.FromUnixNano = d.UnixNano()
	case n == 0:
		req.Last = defaultStatusLogCount
	}
	return req, nil
}

func writeStatusLog(w io.Writer, entries []StatusLogEntry) error {
	tw := tabwriter.NewWriter(w, 0, 1, 2, ' ', 0)
	fmt.Fprintln(tw, "Time\tType\tStatus\tMessage")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Time, e.Type, e.Status, e.Message)
	}
	return tw.Flush()
}
