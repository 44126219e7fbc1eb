package uniter

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/outbox"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// remoteRelations turns the controller's relation view into the
// resolver's.
func remoteRelations(snap *apipb.UnitSnapshotResult) map[int]resolver.RelationSnapshot {
	if len(snap.Relations) == 0 {
		return nil
	}
	out := make(map[int]resolver.RelationSnapshot, len(snap.Relations))
	for _, r := range snap.Relations {
		rs := resolver.RelationSnapshot{Endpoint: r.Endpoint, RemoteApp: r.RemoteApplication, Peer: r.Peer,
			Life: resolver.Life(r.Life), Suspended: r.Suspended, Members: maps.Clone(r.Members)}
		for app, v := range r.AppVersions {
			if v > 0 {
				if rs.AppMembers == nil {
					rs.AppMembers = map[string]int64{}
				}
				rs.AppMembers[app] = v
			}
		}
		out[int(r.Id)] = rs
	}
	return out
}

// enterScope joins the relation of a relation-created hook before the
// hook runs, as Juju does: the unit is in scope during relation-created,
// and its automatic settings (private-address, ...) are in its bag. A
// relation that stopped being alive meanwhile is not entered; the hook
// still runs and the resolver then breaks the relation.
func (u *Uniter) enterScope(ctx context.Context, h hook.Info) error {
	_, err := u.cfg.API.EnterScope(ctx, &apipb.EnterScopeRequest{Unit: u.cfg.Unit, RelationId: int32(h.RelationID)})
	if status.Code(err) == codes.FailedPrecondition || status.Code(err) == codes.NotFound {
		u.cfg.Logger.Info("relation no longer alive; not entering scope", "unit", u.cfg.Unit, "relation", h.RelationID, "reason", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot enter scope of relation %d: %w", h.RelationID, err)
	}
	return nil
}

// commitHook queues a successful hook's buffered effects (§3.3) in the
// durable outbox; deliver sends them. Once this returns nil the effects
// survive any crash, so the hook may be recorded as done.
func (u *Uniter) commitHook(name string, ch hookcmds.Changes, b *backend) error {
	secrets := secretChanges(ch.Secrets, b)
	if ch.IsEmpty() && len(secrets) == 0 {
		return nil
	}
	e := outbox.Entry{Hook: name, StateSet: ch.CharmStateSet, StateDelete: ch.CharmStateDelete, Secrets: secrets,
		OpenPorts: portStrings(ch.OpenPorts), ClosePorts: portStrings(ch.ClosePorts), AddStorage: ch.AddStorage}
	for _, id := range slices.Sorted(maps.Keys(ch.RelationSettings)) {
		rc := ch.RelationSettings[id]
		if len(rc.Unit) == 0 && len(rc.App) == 0 {
			continue
		}
		e.Relations = append(e.Relations, outbox.RelationChange{RelationID: id, Unit: rc.Unit, App: rc.App})
	}
	if _, err := u.outbox.Append(e); err != nil {
		return fmt.Errorf("cannot commit hook %q: %w", name, err)
	}
	return nil
}

// deliver sends the outbox to the controller, oldest entry first; the
// controller applies each (stream, seq) once.
func (u *Uniter) deliver(ctx context.Context) error {
	// Agent statuses set before these entries reach the controller first
	// (agentstatus.go).
	if err := u.agentStatus.flush(ctx); err != nil {
		return err
	}
	err := u.outbox.Deliver(func(stream string, e outbox.Entry) error {
		req := &apipb.CommitHookRequest{Unit: u.cfg.Unit, Hook: e.Hook, StateSet: e.StateSet, StateDelete: e.StateDelete,
			Stream: stream, Seq: e.Seq, Secrets: secretChangesPB(e.Secrets)}
		for _, rc := range e.Relations {
			req.Relations = append(req.Relations, &apipb.RelationSettingsChange{RelationId: int32(rc.RelationID), Unit: rc.Unit, Application: rc.App})
		}
		req.OpenPorts, req.ClosePorts = portSets(e.OpenPorts), portSets(e.ClosePorts)
		reportRequest(req, u.cfg.Unit, e)
		for name, n := range e.AddStorage {
			if req.AddStorage == nil {
				req.AddStorage = map[string]int32{}
			}
			req.AddStorage[name] = int32(n)
		}
		if _, err := u.cfg.API.CommitHook(ctx, req); err != nil {
			return fmt.Errorf("cannot deliver commit %d (hook %q): %w", e.Seq, e.Hook, err)
		}
		return nil
	})
	u.linkDown.Store(unreachable(err))
	return err
}

// LeaveScope implements resolver.Callbacks.
func (u *Uniter) LeaveScope(ctx context.Context, relationID int) error {
	_, err := u.cfg.API.LeaveScope(ctx, &apipb.LeaveScopeRequest{Unit: u.cfg.Unit, RelationId: int32(relationID)})
	if err != nil {
		return fmt.Errorf("cannot leave scope of relation %d: %w", relationID, err)
	}
	return nil
}

// --- hookcmds.Backend: relations -------------------------------------------

// Relations lists the relations the hook sees: those the unit has run
// relation-created for, plus the one being created.
func (b *backend) Relations() ([]hookcmds.RelationInfo, error) {
	var out []hookcmds.RelationInfo
	for id, r := range b.local.Relations {
		out = append(out, hookcmds.RelationInfo{ID: id, Endpoint: r.Endpoint, RemoteApp: r.RemoteApp, Peer: r.Peer, RemoteModelUUID: b.snap.ModelUuid})
	}
	if h := b.hook; h.Kind == hook.RelationCreated && b.local.Relations[h.RelationID] == nil {
		peer := h.RemoteApp == applicationOf(b.u.cfg.Unit)
		for _, r := range b.snap.Relations {
			if int(r.Id) == h.RelationID {
				peer = r.Peer
			}
		}
		out = append(out, hookcmds.RelationInfo{ID: h.RelationID, Endpoint: h.Endpoint, RemoteApp: h.RemoteApp, Peer: peer, RemoteModelUUID: b.snap.ModelUuid})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// RelationMembers lists the remote units the unit knows as joined: those
// whose -joined committed, plus the unit joining in a -joined hook, minus
// the unit departing in a -departed hook.
func (b *backend) RelationMembers(id int) ([]string, error) {
	members := map[string]bool{}
	if r := b.local.Relations[id]; r != nil {
		for m := range r.Members {
			members[m] = true
		}
	}
	if b.hook.RelationID == id && b.hook.Kind.IsRelation() {
		switch b.hook.Kind {
		case hook.RelationJoined:
			members[b.hook.RemoteUnit] = true
		case hook.RelationDeparted:
			delete(members, b.hook.RemoteUnit)
		case hook.RelationBroken:
			clear(members)
		}
	}
	return slices.Sorted(maps.Keys(members)), nil
}

// ReadSettings reads a committed bag from the controller.
func (b *backend) ReadSettings(id int, target string, app bool) (map[string]string, error) {
	res, err := b.u.cfg.API.ReadRelationSettings(b.ctx(), &apipb.ReadRelationSettingsRequest{
		Unit: b.u.cfg.Unit, RelationId: int32(id), Target: target, App: app})
	switch status.Code(err) {
	case codes.OK:
		return res.Settings, nil
	case codes.PermissionDenied:
		return nil, hookcmds.ErrPermissionDenied
	case codes.NotFound:
		if app {
			return map[string]string{}, nil
		}
		return nil, fmt.Errorf("cannot read settings for unit %q in relation %d: settings not found", target, id)
	}
	return nil, err
}

// CommittedCharmState returns the unit's charm state as of the snapshot
// the hook was decided on.
func (b *backend) CommittedCharmState() (map[string]string, error) {
	out := maps.Clone(b.snap.CharmState)
	if out == nil {
		out = map[string]string{}
	}
	return out, nil
}

func applicationOf(unit string) string {
	app, _, _ := strings.Cut(unit, "/")
	return app
}

// portStrings renders hook port changes for the outbox.
func portStrings(m map[string][]hookcmds.PortRange) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	out := map[string][]string{}
	for ep, rs := range m {
		for _, r := range rs {
			out[ep] = append(out[ep], r.String())
		}
	}
	return out
}

func portSets(m map[string][]string) []*apipb.PortSet {
	var out []*apipb.PortSet
	for _, ep := range slices.Sorted(maps.Keys(m)) {
		out = append(out, &apipb.PortSet{Endpoint: ep, Ranges: m[ep]})
	}
	return out
}

// CommittedPorts returns the unit's open ports as of the snapshot the hook
// was decided on.
func (b *backend) CommittedPorts() (map[string][]hookcmds.PortRange, error) {
	out := map[string][]hookcmds.PortRange{}
	for _, ps := range b.snap.OpenPorts {
		for _, s := range ps.Ranges {
			r, err := hookcmds.ParsePortRange(s)
			if err != nil {
				return nil, fmt.Errorf("controller sent a bad port range %q: %w", s, err)
			}
			out[ps.Endpoint] = append(out[ps.Endpoint], r)
		}
	}
	return out, nil
}
