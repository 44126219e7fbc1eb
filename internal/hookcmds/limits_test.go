package hookcmds_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/internal/hookcmds/hookcmdstest"
	"github.com/troupe-dev/troupe/internal/limits"
)

// TestSizeLimits: a value over its limit is refused by the tool with
// "ERROR … too large (N bytes, limit M)", exit 1, and nothing is
// buffered; at the limit it is accepted.
func TestSizeLimits(t *testing.T) {
	over := func(n int) string { return strings.Repeat("x", n+1) }
	tooLarge := func(what string, n, limit int) string {
		return fmt.Sprintf("ERROR %s too large (%d bytes, limit %d)\n", what, n, limit)
	}
	noRelationChange := func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
		if len(ch.RelationSettings) != 0 {
			t.Errorf("refused relation-set buffered %d bytes", len(ch.RelationSettings[3].Unit["big"]))
		}
	}
	// What one hook writes to a bag is bounded ("big" is 3 bytes).
	fits := strings.Repeat("y", limits.RelationBag-3)
	for _, tc := range []toolCase{
		{name: "status-set message", argv: []string{"status-set", "active", over(limits.StatusMessage)},
			stderr: tooLarge("status message", limits.StatusMessage+1, limits.StatusMessage), code: 1},
		{name: "juju-log line", argv: []string{"juju-log", over(limits.LogLine)},
			stderr: tooLarge("log message", limits.LogLine+1, limits.LogLine), code: 1},
		{name: "action-log line", argv: []string{"action-log", over(limits.LogLine)}, setup: inAction,
			stderr: tooLarge("action log message", limits.LogLine+1, limits.LogLine), code: 1},
		{name: "action-set results", argv: []string{"action-set", "k=" + over(limits.ActionResults-1)}, setup: inAction,
			stderr: tooLarge("action results", limits.ActionResults+1, limits.ActionResults), code: 1},
		{name: "relation-set bag", argv: []string{"relation-set", "-r", "3", "big=" + fits + "z"},
			stderr: "ERROR cannot set relation settings: " + tooLarge("relation data for wordpress/0", limits.RelationBag+1, limits.RelationBag)[len("ERROR "):],
			code:   1, check: noRelationChange},
		{name: "relation-set bag at the limit", argv: []string{"relation-set", "-r", "3", "big=" + fits},
			check: func(t *testing.T, _ *hookcmdstest.Unit, ch hookcmds.Changes) {
				if len(ch.RelationSettings[3].Unit["big"]) != len(fits) {
					t.Errorf("relation-set at the limit not buffered")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc) })
	}
	// Two relation-set calls of one hook add up.
	hs := hookcmdstest.NewContext(newUnit())
	half := strings.Repeat("h", limits.RelationBag/2)
	if err := hs.UpdateRelationSettings(3, false, map[string]string{"a": half}); err != nil {
		t.Fatal(err)
	}
	err := hs.UpdateRelationSettings(3, false, map[string]string{"b": half})
	if want := fmt.Sprintf("cannot set relation settings: relation data for wordpress/0 too large (%d bytes, limit %d)", limits.RelationBag+2, limits.RelationBag); err == nil || err.Error() != want {
		t.Errorf("second half: %v, want %q", err, want)
	}
	if err := hs.UpdateRelationSettings(3, false, map[string]string{"a": "", "b": half}); err != nil {
		t.Errorf("replacing a by b: %v", err)
	}
}
