package controller

import (
	"time"

	"github.com/troupe-dev/troupe/controller/presence"
)

// presenceFlap is how long an agent between two watch streams still
// counts as connected.
const presenceFlap = 10 * time.Second

// newPresence is the API server's presence tracker: it starts now, so
// every agent gets the restart grace to reconnect after this controller
// (re)starts.
func newPresence(b Bootstrap) *presence.Tracker {
	grace, _ := b.restartGrace() // checked by ReadBootstrap
	return presence.NewTracker(time.Now, grace, presenceFlap)
}
