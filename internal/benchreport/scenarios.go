package benchreport

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Benchmark names `make bench` runs.
const (
	LocalPrefix = "BenchmarkLocal/units-"       // tests/bench, one per BENCH_N
	HookTool    = "BenchmarkHookToolCall"       // internal/hooktool
	APIP99      = "BenchmarkMutatingAPICallP99" // controller
	// Issue 3's controller-core benchmarks (actors/model).
	UnitStatus = "BenchmarkUnitStatusActorVsEtcd"
	IdleUnit   = "BenchmarkIdleUnitEntityMemory"
)

// Scenarios is the table of `make bench`: a settle row per unit count
// found in results (the target applies to the largest), then the hook
// tool, memory, API latency, fan-out and reconnect rows, the local ones
// at the largest unit count, then issue 3's controller-core rows (unit
// status updates through an actor against straight etcd writes, memory
// per idle unit entity; informative, no target).
func Scenarios(results []Result) []Scenario {
	var counts []int
	agents := map[int]float64{}
	for _, r := range results {
		if rest, ok := strings.CutPrefix(r.Name, LocalPrefix); ok {
			if n, err := strconv.Atoi(rest); err == nil {
				counts = append(counts, n)
				agents[n] = r.Metrics["agents"]
			}
		}
	}
	slices.Sort(counts)
	counts = slices.Compact(counts)
	largest := 500 // what the issue asks for, when the local scenarios did not run
	if len(counts) > 0 {
		largest = counts[len(counts)-1]
	}
	local := fmt.Sprintf("%s%d", LocalPrefix, largest)
	var out []Scenario
	for _, n := range counts {
		s := Scenario{Title: fmt.Sprintf("1. settle, %d units", n), Benchmark: fmt.Sprintf("%s%d", LocalPrefix, n),
			Measured: "settle-s", Floor: "floor-settle-s", Unit: "s"}
		if n == largest {
			s.Target, s.Check = "≤ 2× floor", AtMostRatio(2)
		}
		out = append(out, s)
	}
	if len(counts) == 0 {
		out = append(out, Scenario{Title: "1. settle, 500 units", Benchmark: local, Measured: "settle-s", Floor: "floor-settle-s", Unit: "s",
			Target: "≤ 2× floor", Check: AtMostRatio(2)})
	}
	storm := fmt.Sprintf("6. reconnect storm, %d units", largest)
	if a := agents[largest]; a > 0 {
		storm = fmt.Sprintf("6. reconnect storm, %.0f agents", a)
	}
	return append(out,
		Scenario{Title: "2. hook-tool call (status-get) vs /bin/true", Benchmark: HookTool, Measured: "ns/op", Floor: "ns/true",
			Unit: "µs", Scale: 1e-3, Target: "≤ 2.5× floor", Check: AtMostRatio(2.5)},
		Scenario{Title: fmt.Sprintf("3. controller RSS per unit, %d units (floor: status per unit)", largest), Benchmark: local,
			Measured: "rss-KB/unit", Floor: "status-KB/unit", Unit: "KB", Target: "≤ 100 KB", Check: AtMost(100)},
		Scenario{Title: "3. controller RSS per connected agent (floor: status per unit)", Benchmark: local,
			Measured: "rss-KB/agent", Floor: "status-KB/unit", Unit: "KB"},
		Scenario{Title: "4. mutating API call p99, 200 clients (floor: bare fenced etcd commit p99)", Benchmark: APIP99,
			Measured: "api-p99-ms", Floor: "etcd-p99-ms", Ratio: "p99-ratio", Unit: "ms", Target: "≤ 100 ms", Check: AtMost(100)},
		Scenario{Title: fmt.Sprintf("5. config fan-out to the last of %d units", largest), Benchmark: local,
			Measured: "fanout-s", Floor: "floor-fanout-s", Unit: "s"},
		Scenario{Title: storm + " (floor: restart to first API answer)", Benchmark: local,
			Measured: "reconnect-s", Floor: "floor-reconnect-s", Unit: "s", Target: "≤ 20 s", Check: AtMost(20)},
		// Time per update: the ratio is actor time over etcd time.
		Scenario{Title: "issue 3: unit status updates through the unit actor (floor: the same fenced write straight to etcd)", Benchmark: UnitStatus,
			Measured: "actor-updates/s", Floor: "etcd-updates/s", Ratio: "actor/etcd-time", Unit: "updates/s"},
		Scenario{Title: "issue 3: RSS per idle unit entity, 10 000 loaded (floor: its document)", Benchmark: IdleUnit,
			Measured: "rss-B/unit-entity", Floor: "doc-B/unit", Unit: "B"},
		Scenario{Title: "issue 3: heap per idle unit entity, 10 000 loaded (floor: its document)", Benchmark: IdleUnit,
			Measured: "heap-B/unit-entity", Floor: "doc-B/unit", Unit: "B"},
	)
}
