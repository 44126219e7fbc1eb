// Command report writes BENCHMARKS.md from the output of the `go test
// -bench` runs of `make bench`:
//
//	go run ./tests/bench/report -o BENCHMARKS.md [-duration 9m12s] [-notes notes.md] out1.txt out2.txt ...
//
// It exits non-zero when an output cannot be read or parsed, never
// because a target was missed (the table says so).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/troupe-dev/troupe/internal/benchreport"
)

func main() {
	out := flag.String("o", "BENCHMARKS.md", "where to write the report")
	duration := flag.String("duration", "", "wall time of the whole run, shown in the report")
	notes := flag.String("notes", "", "a Markdown file appended under the table (where the time goes)")
	flag.Parse()
	if err := run(*out, *duration, *notes, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(out, duration, notes string, inputs []string) error {
	if len(inputs) == 0 {
		return fmt.Errorf("no benchmark output given; usage: report -o BENCHMARKS.md out1.txt [out2.txt ...]")
	}
	var results []benchreport.Result
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			return fmt.Errorf("cannot read benchmark output: %w", err)
		}
		rs, err := benchreport.Parse(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		results = append(results, rs...)
	}
	r := benchreport.Report{Machine: benchreport.DescribeMachine(time.Now()), Duration: duration, Raw: results,
		Rows: benchreport.Evaluate(results, benchreport.Scenarios(results))}
	if notes != "" {
		data, err := os.ReadFile(notes)
		if err != nil {
			return fmt.Errorf("cannot read the notes: %w", err)
		}
		r.Notes = append(r.Notes, string(data))
	}
	var buf bytes.Buffer
	if err := benchreport.Render(&buf, r); err != nil {
		return err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("cannot write the report: %w", err)
	}
	for _, row := range r.Rows {
		fmt.Printf("%-80s %s\n", row.Scenario, row.Met)
	}
	return nil
}
