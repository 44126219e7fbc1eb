package chaos

import (
	"strings"
	"testing"
)

func TestFloor(t *testing.T) {
	f, err := Floor([]Sample{{300, 40}, {280, 44}, {310, 39}})
	if err != nil || f != (Sample{280, 39}) {
		t.Errorf("Floor = %v, %v; want {280 39}", f, err)
	}
	if _, err := Floor(nil); err == nil || !strings.Contains(err.Error(), "never answered") {
		t.Errorf("Floor(nil): err %v, want a refusal", err)
	}
}

// TestLeakViolations: within tolerance of the baseline holds (also below
// it); a goroutine or descriptor leak beyond it is reported, each figure
// on its own.
func TestLeakViolations(t *testing.T) {
	base := Sample{Goroutines: 400, FDs: 60}
	gor, fds := Tolerance{Abs: 20, Rel: 0.05}, Tolerance{Abs: 8, Rel: 0.05}
	for _, ok := range []Sample{base, {440, 71}, {100, 10}} {
		if v := LeakViolations(ok, base, gor, fds); len(v) != 0 {
			t.Errorf("%v against %v: %v, want none", ok, base, v)
		}
	}
	v := LeakViolations(Sample{441, 60}, base, gor, fds)
	if len(v) != 1 || !strings.HasPrefix(v[0], "goroutines: 441 after the faults, 400 at baseline: 1 more") {
		t.Errorf("goroutine leak: %q", v)
	}
	v = LeakViolations(Sample{400, 120}, base, gor, fds)
	if len(v) != 1 || !strings.HasPrefix(v[0], "open fds: 120 after the faults, 60 at baseline") {
		t.Errorf("fd leak: %q", v)
	}
	if v := LeakViolations(Sample{900, 200}, base, gor, fds); len(v) != 2 {
		t.Errorf("both leaking: %q, want 2 violations", v)
	}
}
