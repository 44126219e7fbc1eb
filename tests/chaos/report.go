package chaos

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Check is one invariant's verdict.
type Check struct {
	Name       string
	Violations []string // empty: held
	Detail     string   // what was checked, e.g. "12 units, 340 hooks"
}

// Report is what one chaos run prints.
type Report struct {
	Seed     uint64
	Duration time.Duration
	Injected map[Kind]int // faults carried out, by kind
	Skipped  map[Kind]int // scheduled but not carried out (target not running, or a link fault sharing a proxy with a slicer), by kind
	// NoLXD, when not empty, is why the run had no LXD machine, so no
	// LXDKinds were scheduled.
	NoLXD  string
	Ops    map[string]int
	Checks []Check
	// Converge is how long after the last fault healed every invariant's
	// state was reached; ConvergeAfterPartition the same from the end of
	// the last link partition.
	Converge, ConvergeAfterPartition time.Duration
	// Reconnects are, for each healed link partition, how long its
	// machine took to be shown connected again with its units' agents.
	Reconnects []time.Duration
	// Figures are extra measurements, by name (e.g. "converge after a 60s
	// partition").
	Figures map[string]time.Duration
}

// Violations counts the violations of every check.
func (r Report) Violations() int {
	n := 0
	for _, c := range r.Checks {
		n += len(c.Violations)
	}
	return n
}

// Total is the number of faults injected.
func (r Report) Total() int {
	n := 0
	for _, v := range r.Injected {
		n += v
	}
	return n
}

// Format renders the report.
func (r Report) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "==== chaos report: seed %d, fault phase %v (replay: make chaos SEED=%d DURATION=%d) ====\n",
		r.Seed, r.Duration, r.Seed, int(r.Duration.Seconds()))
	fmt.Fprintf(&b, "faults injected: %d\n", r.Total())
	for _, k := range Kinds {
		fmt.Fprintf(&b, "  %-16s %4d", k, r.Injected[k])
		if s := r.Skipped[k]; s > 0 {
			fmt.Fprintf(&b, "  (%d skipped: target not running, or a slicer on that link)", s)
		}
		if k.IsLXD() && r.NoLXD != "" {
			fmt.Fprintf(&b, "  (not scheduled: no LXD machine: %s)", r.NoLXD)
		}
		b.WriteByte('\n')
	}
	var ops []string
	for k := range r.Ops {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	b.WriteString("user operations:")
	for _, k := range ops {
		fmt.Fprintf(&b, " %s=%d", k, r.Ops[k])
	}
	b.WriteByte('\n')
	b.WriteString("invariants:\n")
	for _, c := range r.Checks {
		verdict := "ok"
		if len(c.Violations) > 0 {
			verdict = fmt.Sprintf("VIOLATED (%d)", len(c.Violations))
		}
		fmt.Fprintf(&b, "  %-46s %s  %s\n", c.Name, verdict, c.Detail)
		for _, v := range c.Violations {
			fmt.Fprintf(&b, "      - %s\n", v)
		}
	}
	fmt.Fprintf(&b, "converged %.1fs after the last fault healed, %.1fs after the last partition ended\n",
		r.Converge.Seconds(), r.ConvergeAfterPartition.Seconds())
	if n := len(r.Reconnects); n > 0 {
		fmt.Fprintf(&b, "machine shown started, its units active/idle, after a partition healed (%d partitions): p50 %.1fs, p99 %.1fs, max %.1fs\n", n,
			Percentile(r.Reconnects, 50).Seconds(), Percentile(r.Reconnects, 99).Seconds(), Percentile(r.Reconnects, 100).Seconds())
	}
	var figs []string
	for k := range r.Figures {
		figs = append(figs, k)
	}
	sort.Strings(figs)
	for _, k := range figs {
		fmt.Fprintf(&b, "%s: %.2fs\n", k, r.Figures[k].Seconds())
	}
	fmt.Fprintf(&b, "violations: %d\n", r.Violations())
	return b.String()
}

// Percentile is the p-th percentile (0 < p <= 100, nearest rank) of ds;
// zero for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
