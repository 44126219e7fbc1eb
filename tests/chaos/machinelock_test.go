package chaos

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)

// ms is t0 plus n milliseconds.
func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

func span(unit, machine string, start, end int) Span {
	s := Span{Unit: unit, Machine: machine, Hook: "config-changed", Run: unit + "@" + time.Duration(start).String(), Start: ms(start)}
	if end >= 0 {
		s.End = ms(end)
	}
	return s
}

func TestParseSpans(t *testing.T) {
	lines := []string{
		"start|100.1|2|install|1796183123456755769",
		"end|100.1|1796183123512997038|0",
		"",
		"start|101.2|2|start|1796183123600000000",
	}
	got, err := ParseSpans("kvstore/0", lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d spans, want 2: %v", len(got), got)
	}
	if got[0].Machine != "2" || got[0].Hook != "install" || !got[0].Ended() || got[0].End.Sub(got[0].Start) != 56241269*time.Nanosecond {
		t.Errorf("first span %+v", got[0])
	}
	if got[1].Ended() || got[1].Hook != "start" {
		t.Errorf("second span %+v, want no end", got[1])
	}
	for _, bad := range [][]string{
		{"end|9|1796183123512997038|0"},
		{"start|1|2|install|notanumber"},
		{"start|1||install|1796183123456755769"},
		{"start|1|2|install|1", "start|1|2|start|2"},
		{"start|1|2|install|1", "end|1|2|0", "end|1|3|0"},
		{"begin|1|2|install|1"},
	} {
		if _, err := ParseSpans("u/0", bad); err == nil || !strings.Contains(err.Error(), "u/0 span line") {
			t.Errorf("ParseSpans(%q): err %v, want a refusal naming the line", bad, err)
		}
	}
}

// TestLockOverlapsFindsOverlaps: overlapping runs on one machine are
// violations, whichever units they belong to; runs on different machines,
// and back-to-back runs on one, are not.
func TestLockOverlapsFindsOverlaps(t *testing.T) {
	clean := []Span{
		span("a/0", "0", 0, 100), span("b/0", "0", 100, 150), span("a/0", "0", 151, 200),
		span("c/0", "1", 50, 160), // another machine: may overlap machine 0's runs
	}
	v, st := LockOverlaps(clean, nil)
	if len(v) != 0 {
		t.Errorf("clean runs reported: %v", v)
	}
	if st.Runs != 4 || st.Machines != 2 || st.MinGap != 0 {
		t.Errorf("stats %+v, want 4 runs on 2 machines, min gap 0", st)
	}
	for name, tc := range map[string][]Span{
		"other unit inside":         {span("a/0", "0", 0, 100), span("b/0", "0", 40, 60)},
		"other unit straddle":       {span("a/0", "0", 0, 100), span("b/0", "0", 99, 300)},
		"same unit":                 {span("a/0", "0", 0, 100), span("a/0", "0", 50, 120)},
		"same start":                {span("a/0", "0", 10, 20), span("b/0", "0", 10, 30)},
		"unended starts inside":     {span("a/0", "0", 0, 100), span("b/0", "0", 30, -1)},
		"unended at the same start": {span("b/0", "0", 0, -1), span("a/0", "0", 0, 100)},
		"out of order input":        {span("b/0", "0", 99, 300), span("c/0", "1", 0, 1000), span("a/0", "0", 0, 100)},
	} {
		v, _ := LockOverlaps(tc, nil)
		if len(v) != 1 || !strings.Contains(v[0], "machine ") || !strings.Contains(v[0], "overlaps") {
			t.Errorf("%s: violations %q, want exactly one overlap", name, v)
		}
	}
}

// TestLockOverlapsAllowsOrphansAfterTheKill: a run still going when its
// machine's agent was SIGKILLed may overlap other units' runs after the
// kill (the lock died with the agent), never before it, and never its own
// unit's re-run.
func TestLockOverlapsAllowsOrphansAfterTheKill(t *testing.T) {
	kills := map[string][]time.Time{"0": {ms(500), ms(80)}}
	orphan := span("a/0", "0", 0, 300)
	v, st := LockOverlaps([]Span{orphan, span("b/0", "0", 120, 200)}, kills)
	if len(v) != 0 {
		t.Errorf("another unit's run after the kill reported: %v", v)
	}
	if st.Orphaned != 1 {
		t.Errorf("stats %+v, want 1 orphaned run", st)
	}
	if v, _ := LockOverlaps([]Span{orphan, span("b/0", "0", 50, 200)}, kills); len(v) != 1 {
		t.Errorf("another unit's run before the kill: violations %q, want 1", v)
	}
	if v, _ := LockOverlaps([]Span{orphan, span("a/0", "0", 120, 200)}, kills); len(v) != 1 {
		t.Errorf("the orphan's own unit re-ran while it still ran: violations %q, want 1", v)
	}
	// A kill on another machine, or after the run ended, orphans nothing.
	other := map[string][]time.Time{"1": {ms(80)}, "0": {ms(400)}}
	if v, _ := LockOverlaps([]Span{orphan, span("b/0", "0", 120, 200)}, other); len(v) != 1 {
		t.Errorf("kill elsewhere: violations %q, want 1", v)
	}
	// An unended run is an orphan too; only its start is known.
	v, st = LockOverlaps([]Span{span("a/0", "0", 0, -1), span("b/0", "0", 120, 200), span("a/0", "0", 210, 220)}, kills)
	if len(v) != 0 || st.Unended != 1 || st.Orphaned != 1 {
		t.Errorf("unended orphan: violations %q, stats %+v", v, st)
	}
}
