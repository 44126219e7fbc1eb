package apiserver

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/troupe-dev/troupe/controller/presence"
	"github.com/troupe-dev/troupe/internal/entity"
)

// presenceFlap is how long an agent that closed its last stream still
// counts as connected (a watch being re-established).
const presenceFlap = 10 * time.Second

// Keepalive: the server pings an idle connection every 10 s and drops it
// when no answer comes within 5 s, so an agent behind a dead link (a
// blackholed proxy, a frozen container) loses its streams, and so shows
// disconnected, within about 15 s. Agents ping as often (internal/api),
// which the enforcement policy must allow.
var (
	serverKeepalive      = keepalive.ServerParameters{Time: 10 * time.Second, Timeout: 5 * time.Second}
	keepaliveEnforcement = keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}
)

// agentCaller is the tag string of an authenticated machine or unit agent,
// "" for users.
func agentCaller(ctx context.Context) string {
	t := callerFrom(ctx)
	if t.Kind != entity.KindMachine && t.Kind != entity.KindUnit {
		return ""
	}
	return t.String()
}

// presenceUnary runs after authentication: every agent call is a
// heartbeat (a map write, never a store write).
func (s *Server) presenceUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if tag := agentCaller(ctx); tag != "" {
		loggedIn(ctx)
		s.presence.Seen(tag)
	}
	return h(ctx, req)
}

// presenceStream runs after authentication: an agent's watch stream
// (WatchMachine, WatchUnit) keeps it connected while it runs.
func (s *Server) presenceStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	tag := agentCaller(ss.Context())
	if tag == "" {
		return h(srv, ss)
	}
	loggedIn(ss.Context())
	if m := info.FullMethod[strings.LastIndexByte(info.FullMethod, '/')+1:]; m == "WatchMachine" || m == "WatchUnit" {
		release := s.presence.Connect(tag)
		defer release()
	} else {
		s.presence.Seen(tag)
	}
	return h(srv, ss)
}

// agentPresence is the presence of the agent tagged tag under the model's
// lost-after.
func (s *Server) agentPresence(tag entity.Tag, lostAfter time.Duration) presence.State {
	return s.presence.State(tag.String(), lostAfter)
}

// Presence as status, Juju's way for `lost`: a unit agent out of touch
// past lost-after shows agent `lost` and workload `unknown` "agent lost,
// …" (unless the workload is in error or terminated), a machine agent
// `down`. Before that, within the grace, both show `disconnected` and the
// workload keeps its last status: the agent goes on running it offline.
const (
	msgNotCommunicating = "agent is not communicating with the server"
	agentDisconnected   = "disconnected"
)

// unitPresenceStatus is the displayed workload and agent status of a unit
// given its agent's presence. Pure.
func unitPresenceStatus(unitName string, st presence.State, lostAfter time.Duration, workload, agent entity.Status) (entity.Status, entity.Status) {
	if agent.Current == "allocating" || agent.Current == "" {
		return workload, agent // never started: nothing to be out of touch with
	}
	switch st {
	case presence.Disconnected:
		agent = entity.Status{Current: agentDisconnected, Since: agent.Since,
			Message: msgNotCommunicating + "; shown lost if it is not back within " + lostAfter.String()}
	case presence.Lost:
		agent = entity.Status{Current: "lost", Message: msgNotCommunicating, Since: agent.Since}
		if workload.Current != "error" && workload.Current != "terminated" {
			workload = entity.Status{Current: "unknown", Since: workload.Since,
				Message: "agent lost, see 'juju show-status-log " + unitName + "'"}
		}
	}
	return workload, agent
}

// machinePresenceStatus is the displayed agent status of a machine given
// its agent's presence. Pure.
func machinePresenceStatus(st presence.State, lostAfter time.Duration, agent entity.Status) entity.Status {
	if agent.Current == "pending" || agent.Current == "" || agent.Current == "error" {
		return agent
	}
	switch st {
	case presence.Disconnected:
		return entity.Status{Current: agentDisconnected, Since: agent.Since,
			Message: msgNotCommunicating + "; shown down if it is not back within " + lostAfter.String()}
	case presence.Lost:
		return entity.Status{Current: "down", Message: msgNotCommunicating, Since: agent.Since}
	}
	return agent
}
