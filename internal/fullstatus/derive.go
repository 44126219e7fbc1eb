package fullstatus

import (
	"sort"
	"time"
)

// severities ranks workload statuses for DeriveApplicationStatus, as
// Juju's DeriveStatus does. Statuses not listed rank 0.
var severities = map[string]int{
	"error":       100,
	"blocked":     90,
	"maintenance": 80,
	"waiting":     70,
	"active":      60,
	"terminated":  50,
	"unknown":     40,
}

// Severity returns the rank of a workload status: error 100, blocked 90,
// maintenance 80, waiting 70, active 60, terminated 50, unknown 40, and 0
// for anything else.
func Severity(status string) int { return severities[status] }

// DeriveApplicationStatus returns the status an application shows when
// its leader set none: the most severe of its units' workload statuses,
// carrying that unit's message and since. Ties go to the earliest unit in
// the slice, so pass units in natural order (see NaturalLess) for a
// stable result. With no units the result is "unknown".
func DeriveApplicationStatus(unitStatuses []StatusInfo) StatusInfo {
	if len(unitStatuses) == 0 {
		return StatusInfo{Current: "unknown"}
	}
	best := unitStatuses[0]
	for _, s := range unitStatuses[1:] {
		if Severity(s.Current) > Severity(best.Current) {
			best = s
		}
	}
	best.StatusError = ""
	return best
}

// SinceLayout is the layout of StatusInfo.Since: Juju's
// "24 Feb 2025 12:03:17Z" (or "+13:00" outside UTC).
const SinceLayout = "02 Jan 2006 15:04:05Z07:00"

// TimestampLayout is the layout of ControllerStatus.Timestamp and of the
// tabular Timestamp column: Juju's "12:03:17Z".
const TimestampLayout = "15:04:05Z07:00"

// FormatSince formats t in SinceLayout, in t's own location: pass t.UTC()
// for `--utc` output, t.Local() for Juju's default. A zero t gives "", so
// the key is omitted.
func FormatSince(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(SinceLayout)
}

// FormatTimestamp formats t in TimestampLayout, in t's own location. A
// zero t gives "".
func FormatTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(TimestampLayout)
}

// NaturalLess orders strings with digit runs compared by numeric value, so
// "app/2" < "app/10" and "0/lxd/2" < "0/lxd/10". Other bytes compare
// as usual; it is a strict weak order usable with sort.
func NaturalLess(a, b string) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			ra, rb := trimZeros(a[si:i]), trimZeros(b[sj:j])
			if len(ra) != len(rb) {
				return len(ra) < len(rb)
			}
			if ra != rb {
				return ra < rb
			}
			// Same value: fewer leading zeros first ("1" < "01").
			if i-si != j-sj {
				return i-si < j-sj
			}
			continue
		}
		if ca != cb {
			return ca < cb
		}
		i++
		j++
	}
	return len(a)-i < len(b)-j
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// sortedKeys returns m's keys in natural order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return NaturalLess(keys[i], keys[j]) })
	return keys
}
