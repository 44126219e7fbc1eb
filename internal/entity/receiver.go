package entity

import (
	"regexp"
	"strings"
)

var machineID = regexp.MustCompile(`^(0|[1-9][0-9]*)(/[a-z]+/(0|[1-9][0-9]*))*$`)

// IsMachineID reports whether s is a machine id ("0", "0/lxd/0"). A task's
// receiver (Task.Unit) is a machine id for `troupe exec --machine` and a
// unit name otherwise; unit names start with a letter, so the two never
// collide.
func IsMachineID(s string) bool { return machineID.MatchString(s) }

// ReceiverTag is Juju's tag of a task receiver: machine-0, machine-0-lxd-0
// or unit-hello-0.
func ReceiverTag(r string) string {
	kind := "unit-"
	if IsMachineID(r) {
		kind = "machine-"
	}
	return kind + strings.ReplaceAll(r, "/", "-")
}

// ReceiverKind is "machine" or "unit", the word Juju's messages and task
// documents use for a receiver.
func ReceiverKind(r string) string {
	if IsMachineID(r) {
		return "machine"
	}
	return "unit"
}
