// Package limits holds the size limits on what charms and agents send:
// relation data bags, action results, log lines, status messages and
// secret content. Both the hook tool server (internal/hookcmds) and the
// API (controller/apiserver) check them, so a hostile or buggy charm is
// refused at the tool and a hostile agent at the controller, with the
// same message: "<what> too large (N bytes, limit M)".
//
// Who imports it: internal/hookcmds, controller/apiserver. It imports
// only the standard library.
package limits

import "fmt"

// Limits, in bytes.
const (
	// RelationBag bounds one relation data bag (a unit's or an
	// application's), keys plus values.
	RelationBag = 1 << 20
	// ActionResults bounds one action's results (keys plus values in
	// the hook tool, the encoded JSON document at the API).
	ActionResults = 1 << 20
	// StatusMessage bounds a status message.
	StatusMessage = 16 << 10
	// LogLine bounds one log line (juju-log, action-log, an agent's
	// record).
	LogLine = 64 << 10
	// SecretValue and SecretContent are Juju's secret content limits: one
	// value, and all of one revision's content.
	SecretValue   = 8 << 10
	SecretContent = 64 << 10
)

// TooLargeError is a limit exceeded.
type TooLargeError struct {
	What        string
	Size, Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s too large (%d bytes, limit %d)", e.What, e.Size, e.Limit)
}

// Check is nil when size is within limit, a *TooLargeError otherwise.
func Check(what string, size, limit int) error {
	if size > limit {
		return &TooLargeError{What: what, Size: size, Limit: limit}
	}
	return nil
}

// MapSize is the size of a string map as the limits count it: keys plus
// values.
func MapSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// Merged is the size of bag after changes (an empty value deletes a key).
func Merged(bag, changes map[string]string) int {
	n := MapSize(bag)
	for k, v := range changes {
		if old, ok := bag[k]; ok {
			n -= len(k) + len(old)
		}
		if v != "" {
			n += len(k) + len(v)
		}
	}
	return n
}
