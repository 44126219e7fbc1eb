package uniter

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/hookcmds"
	"github.com/troupe-dev/troupe/workers/logsender"
	"github.com/troupe-dev/troupe/workers/uniter/hook"
	"github.com/troupe-dev/troupe/workers/uniter/outbox"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// backend is the unit's side of the hook-tool contract for one hook: the
// parts hookcmds.HookState does not implement itself.
type backend struct {
	u    *Uniter
	info hookcmds.HookInfo
	snap *apipb.UnitSnapshotResult
	log  *slog.Logger
	// local is the uniter's state when the hook was decided and hook the
	// hook being run: together they say which relations and members the
	// hook sees (relations.go).
	local resolver.State
	hook  hook.Info
	// leaderSet holds this hook's leader-set writes (already applied on
	// the controller), so leader-get in the same hook sees them.
	leaderSet map[string]string
	// tracks are this hook's buffered secret tracking changes (secrets.go).
	tracks []secretTrack
}

var _ hookcmds.Backend = (*backend)(nil)

func (b *backend) ctx() context.Context { return b.u.ctx }

func (b *backend) HookInfo() hookcmds.HookInfo { return b.info }

// LogMessage is juju-log: agent.log now, debug-log through the outbox.
func (b *backend) LogMessage(level, msg string) error {
	lv, _ := logsender.ParseLevel(level) // hookcmds already turned a bad level into INFO
	line := b.u.logLine(lv, "unit."+b.u.cfg.Unit+".juju-log", msg)
	return b.u.report(outbox.Entry{Hook: b.reportName("juju-log"), Logs: []outbox.LogLine{line}})
}

// reportName names a report entry after the hook or action that made it.
func (b *backend) reportName(tool string) string {
	if n := b.hook.Name(); n != "" {
		return n + ":" + tool
	}
	if b.info.ActionName != "" {
		return b.info.ActionName + ":" + tool
	}
	return tool
}

// UnitStatus is status-get: a status-set still queued in the outbox
// wins over the controller's (so a hook reads its own write, online or
// not); else the controller's, or offline the last snapshot's.
func (b *backend) UnitStatus() (hookcmds.StatusInfo, error) {
	if w := b.u.pendingWorkload(); w != nil {
		return hookcmds.StatusInfo{Status: w.Current, Message: w.Message, Data: map[string]any{}}, nil
	}
	s, err := b.u.snapshot()
	if unreachable(err) {
		s, err = b.u.cachedSnapshot()
	}
	if err != nil {
		return hookcmds.StatusInfo{}, err
	}
	return hookcmds.StatusInfo{Status: s.Workload.GetCurrent(), Message: s.Workload.GetMessage(), Data: map[string]any{}}, nil
}

func (b *backend) ApplicationStatus() (hookcmds.ApplicationStatusInfo, error) {
	s, err := b.u.snapshot()
	if err != nil {
		return hookcmds.ApplicationStatusInfo{}, err
	}
	return hookcmds.ApplicationStatusInfo{
		Application: hookcmds.StatusInfo{Status: s.ApplicationStatus.GetCurrent(), Message: s.ApplicationStatus.GetMessage(), Data: map[string]any{}},
		Units:       map[string]hookcmds.StatusInfo{b.u.cfg.Unit: {Status: s.Workload.GetCurrent(), Message: s.Workload.GetMessage(), Data: map[string]any{}}},
	}, nil
}

// SetUnitStatus is status-set of the workload: queued in the outbox
// and, when the controller answers, delivered before the tool returns.
func (b *backend) SetUnitStatus(s hookcmds.StatusInfo) error {
	return b.u.reportNow(outbox.Entry{Hook: b.reportName("status-set"), Workload: &outbox.Status{Current: s.Status, Message: s.Message}})
}

func (b *backend) SetApplicationStatus(s hookcmds.StatusInfo) error {
	_, err := b.u.cfg.API.SetUnitStatus(b.ctx(), &apipb.SetUnitStatusRequest{Unit: b.u.cfg.Unit,
		Application: &apipb.StatusInfo{Current: s.Status, Message: s.Message}})
	if status.Code(err) == codes.PermissionDenied {
		return fmt.Errorf("%w: %v", hookcmds.ErrNotLeader, status.Convert(err).Message())
	}
	return err
}

func (b *backend) SetApplicationVersion(v string) error {
	_, err := b.u.cfg.API.SetApplicationVersion(b.ctx(), &apipb.SetApplicationVersionRequest{Unit: b.u.cfg.Unit, Version: v})
	return err
}

func (b *backend) ConfigSettings() (map[string]any, error) {
	out := map[string]any{}
	if len(b.snap.ConfigJson) > 0 {
		if err := json.Unmarshal(b.snap.ConfigJson, &out); err != nil {
			return nil, fmt.Errorf("cannot decode config: %w", err)
		}
	}
	return out, nil
}

func (b *backend) ClaimLeadership() (bool, error) { return b.u.cfg.Leadership.ClaimNow(b.ctx()) }

// LeaderSettings returns the leader settings as of the snapshot the hook
// was decided on, plus what this hook wrote with leader-set.
func (b *backend) LeaderSettings() (map[string]string, error) {
	out := map[string]string{}
	for k, v := range b.snap.LeaderSettings {
		out[k] = v
	}
	for k, v := range b.leaderSet {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out, nil
}

// WriteLeaderSettings is leader-set: immediate, as in Juju.
func (b *backend) WriteLeaderSettings(settings map[string]string) error {
	_, err := b.u.cfg.API.SetLeaderSettings(b.ctx(), &apipb.SetLeaderSettingsRequest{Unit: b.u.cfg.Unit, Settings: settings})
	if status.Code(err) == codes.PermissionDenied {
		return fmt.Errorf("%w: %v", hookcmds.ErrNotLeader, status.Convert(err).Message())
	}
	if err != nil {
		return fmt.Errorf("cannot write leader settings: %w", err)
	}
	if b.leaderSet == nil {
		b.leaderSet = map[string]string{}
	}
	for k, v := range settings {
		b.leaderSet[k] = v
	}
	return nil
}

func (b *backend) ActionParams() (map[string]any, error)    { return nil, hookcmds.ErrNotAction }
func (b *backend) UpdateActionResults(map[string]any) error { return hookcmds.ErrNotAction }
func (b *backend) LogActionMessage(string) error            { return hookcmds.ErrNotAction }
func (b *backend) SetActionFailed(string) error             { return hookcmds.ErrNotAction }

func (b *backend) RequestReboot(bool) error {
	return fmt.Errorf("juju-reboot is not supported on this provider")
}

func (b *backend) UnitAddress(bool) (string, error) { return b.snap.Address, nil }

func (b *backend) NetworkInfo(binding string, relationID int) (hookcmds.NetworkInfo, error) {
	addr := b.snap.Address
	return hookcmds.NetworkInfo{
		BindAddresses:    []hookcmds.BindAddress{{InterfaceName: "lo", Addresses: []hookcmds.InterfaceAddress{{Value: addr, CIDR: addr + "/32"}}}},
		EgressSubnets:    []string{addr + "/32"},
		IngressAddresses: []string{addr},
	}, nil
}
