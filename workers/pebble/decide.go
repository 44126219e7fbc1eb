package pebble

import (
	"github.com/canonical/pebble/client"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

// Pebble's change kinds for health checks. A check runs as a
// perform-check change; when it fails Threshold times in a row that
// change ends in Error and a recover-check change starts, which ends Done
// when the check succeeds again (and a new perform-check starts).
const (
	performCheckKind = "perform-check"
	recoverCheckKind = "recover-check"
)

// NeedsChangeStatus reports whether NoticeHook needs the status of the
// change notice n is about (a change-update notice of a check change).
func NeedsChangeStatus(n *client.Notice) bool {
	if n.Type != client.ChangeUpdateNotice {
		return false
	}
	k := n.LastData["kind"]
	return k == performCheckKind || k == recoverCheckKind
}

// NoticeHook returns the hook Pebble notice n in container asks for, if
// any (juju-contract.md §2.1):
//
//   - a custom notice: <container>-pebble-custom-notice with its id,
//     type and key;
//   - a change-update notice of a perform-check change in Error:
//     <container>-pebble-check-failed for the check it names;
//   - a change-update notice of a recover-check change that is Done:
//     <container>-pebble-check-recovered.
//
// changeStatus is the change's current status, for notices where
// NeedsChangeStatus holds; every other notice is ignored. It is pure.
func NoticeHook(container string, n *client.Notice, changeStatus string) (hook.Info, bool) {
	switch n.Type {
	case client.CustomNotice:
		return hook.Info{Kind: hook.PebbleCustomNotice, WorkloadName: container,
			NoticeID: n.ID, NoticeType: string(n.Type), NoticeKey: n.Key}, true
	case client.ChangeUpdateNotice:
		check := n.LastData["check-name"]
		if check == "" {
			return hook.Info{}, false
		}
		switch {
		case n.LastData["kind"] == performCheckKind && changeStatus == "Error":
			return hook.Info{Kind: hook.PebbleCheckFailed, WorkloadName: container, CheckName: check}, true
		case n.LastData["kind"] == recoverCheckKind && changeStatus == "Done":
			return hook.Info{Kind: hook.PebbleCheckRecovered, WorkloadName: container, CheckName: check}, true
		}
	}
	return hook.Info{}, false
}
