// Package bench holds the scenarios of `make bench` that drive the real
// binaries (bin/troupe, bin/trouped, bin/hooktool, built by `make build`)
// on the local provider: settle time of N no-op units, controller memory
// per unit and per agent, config fan-out and the reconnect storm after a
// controller restart. Each reports, through b.ReportMetric, what it
// measured and a floor measured in the same run on the same machine; the
// report program (tests/bench/report) turns the output into
// BENCHMARKS.md.
//
// BENCH_N (default "10,100,500") lists the unit counts of the settle
// scenario; the largest is the one the memory, fan-out and reconnect
// scenarios run at. BENCH_BIN (default ../../bin) is where the binaries
// are. Run with -benchtime 1x: each scenario is one long measurement.
package bench
