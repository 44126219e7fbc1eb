// Package benchreport turns the output of `go test -bench` runs into
// BENCHMARKS.md: it parses benchmark result lines, picks for each
// scenario of `make bench` the measured value, the floor measured in the
// same run and their ratio, checks each against its target, and renders
// a Markdown table under a description of the machine.
//
// Parsing and rendering are pure (Parse, Evaluate, Render); only
// DescribeMachine reads the host (/proc). It is imported by the report
// program of tests/bench and by nothing else.
package benchreport

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Result is one benchmark result line: its name without the -GOMAXPROCS
// suffix, and every reported metric by unit ("ns/op", "settle-s", …).
type Result struct {
	Name    string
	Metrics map[string]float64
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// Parse reads `go test -bench` output (several packages' output may be
// concatenated) and returns its result lines in order. Other lines (PASS,
// ok, goos, logs) are skipped. A line that starts like a result but whose
// metrics do not parse is an error.
func Parse(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) < 2 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // "BenchmarkX" alone, or a log line naming a benchmark
		}
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("line %d: %q: metrics must come in value-unit pairs", line, sc.Text())
		}
		res := Result{Name: procsSuffix.ReplaceAllString(f[0], ""), Metrics: map[string]float64{}}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: metric %q: bad value %q", line, f[i+1], f[i])
			}
			res.Metrics[f[i+1]] = v
		}
		out = append(out, res)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read benchmark output: %w", err)
	}
	return out, nil
}

// Scenario says where one row of the table comes from and what it must
// meet.
type Scenario struct {
	Title     string // "1. settle, 500 units"
	Benchmark string // result name, e.g. "BenchmarkLocal/settle-500"
	Measured  string // metric unit of the measured value
	Floor     string // metric unit of the floor
	Unit      string // display unit of measured and floor ("s", "ms", "KB")
	// Scale multiplies measured and floor for display and for Check
	// (e.g. 1e-3 shows ns as µs); zero means 1.
	Scale float64
	// Ratio is the metric unit of the ratio when the benchmark reports
	// it; empty means measured / floor.
	Ratio string
	// Target is checked against Check; Target == "" means no target
	// (the row is informative).
	Target string
	Check  func(measured, ratio float64) bool
}

// Row is one evaluated line of the table.
type Row struct {
	Scenario                string
	Measured, Floor, Ratio  float64
	Unit, Target, Met, Note string
}

// Evaluate makes one row per scenario. A scenario whose benchmark did not
// run (or lacks a metric) gets a row with Met "not run" and a note, so a
// partial run still reports every scenario.
func Evaluate(results []Result, scenarios []Scenario) []Row {
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Name] = r
	}
	var rows []Row
	for _, s := range scenarios {
		row := Row{Scenario: s.Title, Unit: s.Unit, Target: s.Target, Measured: math.NaN(), Floor: math.NaN(), Ratio: math.NaN()}
		r, ok := byName[s.Benchmark]
		measured, okM := r.Metrics[s.Measured]
		floor, okF := r.Metrics[s.Floor]
		switch {
		case !ok:
			row.Met, row.Note = "not run", s.Benchmark+" did not report"
		case !okM || !okF:
			row.Met, row.Note = "not run", fmt.Sprintf("%s reported no %q or %q", s.Benchmark, s.Measured, s.Floor)
		default:
			scale := s.Scale
			if scale == 0 {
				scale = 1
			}
			row.Measured, row.Floor = measured*scale, floor*scale
			row.Ratio = measured / floor
			if s.Ratio != "" {
				if v, ok := r.Metrics[s.Ratio]; ok {
					row.Ratio = v
				}
			}
			switch {
			case s.Target == "":
				row.Met = "—"
			case s.Check(row.Measured, row.Ratio):
				row.Met = "yes"
			default:
				row.Met = "**no**"
			}
		}
		if row.Target == "" {
			row.Target = "—"
		}
		rows = append(rows, row)
	}
	return rows
}

// AtMostRatio is a Check: the ratio is at most max.
func AtMostRatio(max float64) func(measured, ratio float64) bool {
	return func(_, ratio float64) bool { return ratio <= max }
}

// AtMost is a Check: the measured value is at most max.
func AtMost(max float64) func(measured, ratio float64) bool {
	return func(measured, _ float64) bool { return measured <= max }
}

// Machine describes the host a run was measured on.
type Machine struct {
	CPUs      int
	Model     string
	MemoryKB  int64
	Kernel    string
	GoVersion string
	Date      string // RFC 3339, UTC
	LoadAvg   string // /proc/loadavg at the start of the report
}

// Report is everything BENCHMARKS.md shows.
type Report struct {
	Machine  Machine
	Rows     []Row
	Duration string   // wall time of the whole run, "" if unknown
	Notes    []string // free text paragraphs under the table
	Raw      []Result // every parsed result, for the appendix
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// Render writes the Markdown document.
func Render(w io.Writer, r Report) error {
	var b strings.Builder
	m := r.Machine
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Written by `make bench` (tests/bench, internal/benchreport); do not edit by hand.\n")
	b.WriteString("Each scenario runs the real binaries on the local provider, or the real\n")
	b.WriteString("components in-process, and divides what it measured by a floor measured\n")
	b.WriteString("in the same run on the same machine.\n\n")
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- CPUs (nproc): %d\n", m.CPUs)
	fmt.Fprintf(&b, "- CPU model: %s\n", m.Model)
	fmt.Fprintf(&b, "- Memory: %d MB\n", m.MemoryKB/1024)
	fmt.Fprintf(&b, "- Kernel: %s\n", m.Kernel)
	fmt.Fprintf(&b, "- Go: %s\n", m.GoVersion)
	fmt.Fprintf(&b, "- Date: %s\n", m.Date)
	if m.LoadAvg != "" {
		fmt.Fprintf(&b, "- Load average when the report was written: %s\n", m.LoadAvg)
	}
	if r.Duration != "" {
		fmt.Fprintf(&b, "- Whole `make bench` run: %s\n", r.Duration)
	}
	b.WriteString("\n## Results\n\n")
	b.WriteString("| scenario | measured | floor | ratio | target | met? |\n")
	b.WriteString("|---|---:|---:|---:|---|---|\n")
	for _, row := range r.Rows {
		unit := ""
		if row.Unit != "" {
			unit = " " + row.Unit
		}
		meas, floor := num(row.Measured), num(row.Floor)
		if !math.IsNaN(row.Measured) {
			meas += unit
		}
		if !math.IsNaN(row.Floor) {
			floor += unit
		}
		ratio := num(row.Ratio)
		if !math.IsNaN(row.Ratio) {
			ratio += "×"
		}
		met := row.Met
		if row.Note != "" {
			met += " (" + row.Note + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", row.Scenario, meas, floor, ratio, row.Target, met)
	}
	for _, n := range r.Notes {
		b.WriteString("\n" + strings.TrimSpace(n) + "\n")
	}
	if len(r.Raw) > 0 {
		b.WriteString("\n## Raw metrics\n\n")
		for _, res := range r.Raw {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(res.Metrics)) {
				parts = append(parts, num(res.Metrics[k])+" "+k)
			}
			fmt.Fprintf(&b, "- `%s`: %s\n", res.Name, strings.Join(parts, ", "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
