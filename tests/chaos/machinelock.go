package chaos

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Span is one hook run as the test charms record it (span-dir option of
// testcharms/kvstore and kvclient): its unit, the machine it ran on, and
// when it started and ended, to the nanosecond.
type Span struct {
	Unit, Machine, Hook, Run string
	Start                    time.Time
	End                      time.Time // zero: no end recorded (the hook was SIGKILLed)
	Exit                     int
}

// Ended reports whether the run recorded its end.
func (s Span) Ended() bool { return !s.End.IsZero() }

func (s Span) String() string {
	end := "no end recorded"
	if s.Ended() {
		end = fmt.Sprintf("ended %s (%v, exit %d)", s.End.Format("15:04:05.000000"), s.End.Sub(s.Start), s.Exit)
	}
	return fmt.Sprintf("%s %s (run %s) started %s, %s", s.Unit, s.Hook, s.Run, s.Start.Format("15:04:05.000000"), end)
}

// ParseSpans reads one unit's span file: "start|run|machine|hook|ns" and
// "end|run|ns|exit" lines. An end line without its start, or a malformed
// line, is an error; so is a start line without a machine.
func ParseSpans(unit string, lines []string) ([]Span, error) {
	var out []Span
	byRun := map[string]int{}
	for n, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		f := strings.Split(l, "|")
		bad := func(why string) error {
			return fmt.Errorf("%s span line %d %q: %s", unit, n+1, l, why)
		}
		switch {
		case f[0] == "start" && len(f) == 5:
			ns, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil {
				return nil, bad("start time is not unix nanoseconds (is date +%N supported?)")
			}
			if f[2] == "" {
				return nil, bad("no machine id (JUJU_MACHINE_ID unset)")
			}
			if _, dup := byRun[f[1]]; dup {
				return nil, bad("run id recorded twice")
			}
			byRun[f[1]] = len(out)
			out = append(out, Span{Unit: unit, Run: f[1], Machine: f[2], Hook: f[3], Start: time.Unix(0, ns)})
		case f[0] == "end" && len(f) == 4:
			i, ok := byRun[f[1]]
			if !ok {
				return nil, bad("end of a run that never started")
			}
			ns, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				return nil, bad("end time is not unix nanoseconds")
			}
			exit, err := strconv.Atoi(f[3])
			if err != nil {
				return nil, bad("exit status is not a number")
			}
			if out[i].Ended() {
				return nil, bad("run ended twice")
			}
			out[i].End, out[i].Exit = time.Unix(0, ns), exit
		default:
			return nil, bad("want start|run|machine|hook|ns or end|run|ns|exit")
		}
	}
	return out, nil
}

// LockStats summarises what LockOverlaps looked at.
type LockStats struct {
	Runs, Machines int
	Unended        int           // runs with no recorded end (SIGKILLed)
	Orphaned       int           // runs still going when their machine's agent was SIGKILLed
	MinGap         time.Duration // least gap between consecutive runs on one machine; -1 if none
}

// LockOverlaps checks the machine lock from the hook runs' own clocks:
// no two hook runs on one machine overlap. kills lists, per machine id,
// the moments its agent was SIGKILLed (seen dead).
//
// What a run held the lock for is [Start, End], with these allowances,
// each because the evidence or the lock itself ends there:
//
//   - A run with no recorded end (SIGKILLed: by its uniter cancelling it,
//     which waits for it before releasing the lock, or by the restarted
//     uniter's orphan kill) is known to run only at its Start, so only its
//     start is checked against the other runs.
//   - A run still going when its machine's agent was SIGKILLed at K is an
//     orphan from K on: the lock died with the agent, and the restarted
//     agent's other units may take it before this unit's uniter kills the
//     orphan. Against other units' runs it counts up to K. Against its own
//     unit's later runs it counts in full: the restarted uniter kills its
//     orphan before it runs anything.
//
// Every other overlap is a violation.
func LockOverlaps(spans []Span, kills map[string][]time.Time) ([]string, LockStats) {
	byMachine := map[string][]Span{}
	for _, s := range spans {
		byMachine[s.Machine] = append(byMachine[s.Machine], s)
	}
	st := LockStats{Runs: len(spans), Machines: len(byMachine), MinGap: -1}
	var out []string
	machines := make([]string, 0, len(byMachine))
	for m := range byMachine {
		machines = append(machines, m)
	}
	sort.Strings(machines)
	for _, m := range machines {
		runs := byMachine[m]
		sort.SliceStable(runs, func(i, j int) bool { return runs[i].Start.Before(runs[j].Start) })
		// lockEnd: until when the run excluded other units' runs; ownEnd:
		// its own unit's.
		lockEnd := make([]time.Time, len(runs))
		ownEnd := make([]time.Time, len(runs))
		for i, r := range runs {
			lockEnd[i], ownEnd[i] = r.Start, r.Start
			if r.Ended() {
				lockEnd[i], ownEnd[i] = r.End, r.End
			} else {
				st.Unended++
			}
			var orphanedAt time.Time // the first kill while it ran
			for _, k := range kills[m] {
				if k.After(r.Start) && (!r.Ended() || k.Before(r.End)) && (orphanedAt.IsZero() || k.Before(orphanedAt)) {
					orphanedAt = k
				}
			}
			if !orphanedAt.IsZero() {
				st.Orphaned++
				if orphanedAt.Before(lockEnd[i]) {
					lockEnd[i] = orphanedAt
				}
			}
		}
		for i, a := range runs {
			for j := i + 1; j < len(runs); j++ {
				b := runs[j]
				end := lockEnd[i]
				if a.Unit == b.Unit {
					end = ownEnd[i]
				}
				if b.Start.Before(end) || (b.Start.Equal(a.Start)) {
					out = append(out, fmt.Sprintf("machine %s: %s overlaps %s by %v", m, b, a, end.Sub(b.Start)))
				}
			}
			if i+1 < len(runs) && a.Ended() {
				if gap := runs[i+1].Start.Sub(a.End); gap >= 0 && (st.MinGap < 0 || gap < st.MinGap) {
					st.MinGap = gap
				}
			}
		}
	}
	return out, st
}
