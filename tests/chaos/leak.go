package chaos

import (
	"fmt"
	"math"
)

// Sample is one reading of a process's Prometheus endpoint: go_goroutines
// and process_open_fds.
type Sample struct {
	Goroutines, FDs float64
}

// Floor is the least of each figure over samples: a quiet process's
// level, with the moments it was serving a request left out. A leak
// raises the floor too.
func Floor(samples []Sample) (Sample, error) {
	if len(samples) == 0 {
		return Sample{}, fmt.Errorf("no samples to take the floor of: the metrics endpoint never answered")
	}
	f := Sample{math.Inf(1), math.Inf(1)}
	for _, s := range samples {
		f.Goroutines = math.Min(f.Goroutines, s.Goroutines)
		f.FDs = math.Min(f.FDs, s.FDs)
	}
	return f, nil
}

// Tolerance is how far above its baseline a figure may be: Abs plus Rel
// of the baseline.
type Tolerance struct {
	Abs, Rel float64
}

func (t Tolerance) limit(base float64) float64 { return base + t.Abs + t.Rel*base }

func (t Tolerance) String() string {
	return fmt.Sprintf("+%g+%g%%", t.Abs, 100*t.Rel)
}

// Leak tolerances: a controller with the same model and the same agents
// connected runs about the same goroutines and descriptors whether it
// just started or went through the faults; a leak of one goroutine or one
// descriptor per reconnect (hundreds in a run) is far above these.
var (
	GoroutineTolerance = Tolerance{Abs: 20, Rel: 0.05}
	FDTolerance        = Tolerance{Abs: 8, Rel: 0.05}
)

// LeakViolations compares after, the floor of a process that went through
// the faults, with baseline, the floor of a fresh process serving the
// same model and agents: each figure more than its tolerance above the
// baseline is a violation.
func LeakViolations(after, baseline Sample, gor, fds Tolerance) []string {
	var out []string
	for _, c := range []struct {
		name      string
		got, base float64
		tol       Tolerance
	}{{"goroutines", after.Goroutines, baseline.Goroutines, gor}, {"open fds", after.FDs, baseline.FDs, fds}} {
		if lim := c.tol.limit(c.base); c.got > lim {
			out = append(out, fmt.Sprintf("%s: %.0f after the faults, %.0f at baseline: %.0f more than the tolerance (%s) allows", c.name, c.got, c.base, c.got-lim, c.tol))
		}
	}
	return out
}
