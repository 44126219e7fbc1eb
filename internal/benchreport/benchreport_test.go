package benchreport_test

import (
	"math"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/benchreport"
)

const output = `goos: linux
goarch: amd64
pkg: github.com/troupe-dev/troupe/tests/bench
cpu: Some CPU
BenchmarkLocal/units-10-2         	       1	25090678544 ns/op	        14.00 agents	         3.6 settle-s	         0.5 floor-settle-s
BenchmarkLocal/units-500-2         	       1	25090678544 ns/op	        504.0 agents	         0.83 fanout-s	         0.0717 floor-fanout-s	         0.94 floor-reconnect-s	         100 floor-settle-s	         12.01 reconnect-s	      91.5 rss-KB/unit	  120 rss-KB/agent	  150 settle-s	         0.1367 status-KB/unit
--- BENCH: BenchmarkLocal/units-500-2
    local_test.go:113: BenchmarkLocal 8 units settled
PASS
ok  	github.com/troupe-dev/troupe/tests/bench	26.280s
BenchmarkHookToolCall-2   	       1	   2000000 ns/op	   1000000 ns/true	  2.0 hooktool/true
BenchmarkMutatingAPICallP99-2 	1	123 ns/op	 150.5 api-p99-ms	 10 etcd-p99-ms	 15.05 p99-ratio
pkg: github.com/troupe-dev/troupe/actors/model
BenchmarkUnitStatusActorVsEtcd-2   	       1	 372353879 ns/op	      1600 actor-updates/s	         1.25 actor/etcd-time	      2000 etcd-updates/s
BenchmarkIdleUnitEntityMemory-2    	       1	6053656422 ns/op	       265.2 doc-B/unit	      2616 heap-B/unit-entity	         9.864 heap/doc	      4008 rss-B/unit-entity	        15.12 rss/doc
`

func TestParse(t *testing.T) {
	rs, err := benchreport.Parse(strings.NewReader(output))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	if got, want := strings.Join(names, " "), "BenchmarkLocal/units-10 BenchmarkLocal/units-500 BenchmarkHookToolCall BenchmarkMutatingAPICallP99 BenchmarkUnitStatusActorVsEtcd BenchmarkIdleUnitEntityMemory"; got != want {
		t.Fatalf("names %q, want %q", got, want)
	}
	if v := rs[1].Metrics["rss-KB/unit"]; v != 91.5 {
		t.Errorf("rss-KB/unit = %v, want 91.5", v)
	}
	if v := rs[0].Metrics["ns/op"]; v != 25090678544 {
		t.Errorf("ns/op = %v", v)
	}
}

func TestParseRejectsBrokenMetrics(t *testing.T) {
	for _, in := range []string{
		"BenchmarkX-2 1 12 ns/op 5\n",   // a value without a unit
		"BenchmarkX-2 1 twelve ns/op\n", // a unit without a number
	} {
		if _, err := benchreport.Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q) accepted a broken result line", in)
		}
	}
}

func rowsOf(t *testing.T) map[string]benchreport.Row {
	rs, err := benchreport.Parse(strings.NewReader(output))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]benchreport.Row{}
	for _, r := range benchreport.Evaluate(rs, benchreport.Scenarios(rs)) {
		rows[strings.SplitN(r.Scenario, " (", 2)[0]] = r
	}
	return rows
}

func TestEvaluate(t *testing.T) {
	rows := rowsOf(t)
	for title, want := range map[string]struct {
		measured, floor, ratio float64
		met                    string
	}{
		"1. settle, 10 units":                        {3.6, 0.5, 7.2, "—"}, // no target below the largest N
		"1. settle, 500 units":                       {150, 100, 1.5, "yes"},
		"2. hook-tool call":                          {2000, 1000, 2, "yes"}, // shown in µs
		"3. controller RSS per unit, 500 units":      {91.5, 0.1367, 91.5 / 0.1367, "yes"},
		"4. mutating API call p99, 200 clients":      {150.5, 10, 15.05, "**no**"},
		"5. config fan-out to the last of 500 units": {0.83, 0.0717, 0.83 / 0.0717, "—"},
		"6. reconnect storm, 504 agents":             {12.01, 0.94, 12.01 / 0.94, "yes"},
		"3. controller RSS per connected agent":      {120, 0.1367, 120 / 0.1367, "—"},
		// The ratio is the reported time ratio, not updates/s over updates/s.
		"issue 3: unit status updates through the unit actor": {1600, 2000, 1.25, "—"},
		"issue 3: RSS per idle unit entity, 10 000 loaded":    {4008, 265.2, 4008 / 265.2, "—"},
		"issue 3: heap per idle unit entity, 10 000 loaded":   {2616, 265.2, 2616 / 265.2, "—"},
	} {
		r, ok := rows[title]
		if !ok {
			t.Errorf("no row %q in %v", title, rows)
			continue
		}
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }
		if !near(r.Measured, want.measured) || !near(r.Floor, want.floor) || !near(r.Ratio, want.ratio) || r.Met != want.met {
			t.Errorf("%s: got measured %v floor %v ratio %v met %q, want %+v", title, r.Measured, r.Floor, r.Ratio, r.Met, want)
		}
	}
}

func TestEvaluateMissingBenchmark(t *testing.T) {
	rows := benchreport.Evaluate(nil, benchreport.Scenarios(nil))
	if len(rows) != 10 {
		t.Fatalf("%d rows without results, want 10 (every scenario reported)", len(rows))
	}
	for _, r := range rows {
		if r.Met != "not run" || !math.IsNaN(r.Measured) {
			t.Errorf("%s: met %q measured %v, want \"not run\" and no value", r.Scenario, r.Met, r.Measured)
		}
	}
}

func TestRender(t *testing.T) {
	rs, _ := benchreport.Parse(strings.NewReader(output))
	var b strings.Builder
	err := benchreport.Render(&b, benchreport.Report{
		Machine: benchreport.Machine{CPUs: 2, Model: "Some CPU", MemoryKB: 8 * 1024 * 1024, Kernel: "Linux 6.1", GoVersion: "go1.25", Date: "2026-12-02T01:00:00Z"},
		Rows:    benchreport.Evaluate(rs, benchreport.Scenarios(rs)), Duration: "9m0s", Notes: []string{"## Where the time goes\n\nsomewhere"}})
	if err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	for _, want := range []string{
		"- CPUs (nproc): 2\n", "- CPU model: Some CPU\n", "- Memory: 8192 MB\n", "- Kernel: Linux 6.1\n", "- Go: go1.25\n",
		"- Date: 2026-12-02T01:00:00Z\n", "- Whole `make bench` run: 9m0s\n",
		"| scenario | measured | floor | ratio | target | met? |\n",
		"| 1. settle, 500 units | 150 s | 100 s | 1.50× | ≤ 2× floor | yes |\n",
		"| 2. hook-tool call (status-get) vs /bin/true | 2000 µs | 1000 µs | 2.00× | ≤ 2.5× floor | yes |\n",
		"| 4. mutating API call p99, 200 clients (floor: bare fenced etcd commit p99) | 150 ms | 10.0 ms | 15.1× | ≤ 100 ms | **no** |\n",
		"\n## Where the time goes\n\nsomewhere\n",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q:\n%s", want, doc)
		}
	}
}
