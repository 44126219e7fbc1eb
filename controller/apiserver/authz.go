package apiserver

import (
	"context"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/store"
)

// target says who may call a method and how the request's target is
// checked against the caller. It is the one choke point of authorization:
// the interceptors look the method up in rules and refuse the call before
// the handler runs. Handlers keep only the checks that need more than the
// request's target fields (relation bag rules, leader-only writes, secret
// owners and grants, log entities, task ownership).
type target int

const (
	// anyone authenticated (controller facts only).
	anyIdentity target = iota + 1
	// a user; the handler narrows (ListModels filters, a user changes
	// only their own password unless superuser, WhoAmI is the caller).
	anyUser
	// the controller superuser.
	superuser
	// a user with at least the rule's access level on the model named by
	// the request's "model" field.
	modelUser
	// a unit agent whose unit is the request's "unit" field.
	ownUnit
	// a machine agent whose machine is the request's "machine" field.
	ownMachine
	// a machine agent; the request's "unit" is assigned to its machine.
	machineUnit
	// any agent (machine or unit) of the model; the handler narrows.
	modelAgent
	// an agent fetching a charm: a unit agent its application's charm, a
	// machine agent the charms of the units assigned to it (the request's
	// "charm_url"; other revisions of the same charm too, for refresh).
	charmAgent
)

// rule is one method's authorization.
type rule struct {
	target target
	// level is the access a modelUser rule needs; a func, when one field
	// of the request raises it (e.g. reveal on ListSecrets).
	level func(proto.Message) entity.Access
}

func at(a entity.Access) func(proto.Message) entity.Access {
	return func(proto.Message) entity.Access { return a }
}

func userRule(a entity.Access) rule { return rule{target: modelUser, level: at(a)} }

var (
	rRead  = userRule(entity.AccessRead)
	rWrite = userRule(entity.AccessWrite)
	rAdmin = userRule(entity.AccessAdmin)
	rUnit  = rule{target: ownUnit}
)

func method(name string) string { return "/" + apipb.Controller_ServiceDesc.ServiceName + "/" + name }

// rules has exactly one entry for every method of service Controller
// (TestEveryMethodHasARule).
var rules = map[string]rule{
	method("ControllerInfo"):    {target: anyIdentity},
	method("AddModel"):          {target: superuser},
	method("ListModels"):        {target: anyUser},
	method("Deploy"):            rWrite,
	method("Status"):            rRead,
	method("DestroyController"): {target: superuser},
	method("ResolveUnit"):       rWrite,
	method("AddUnit"):           rWrite,
	method("RemoveApplication"): rWrite,
	method("RemoveUnit"):        rWrite,
	method("GetConfig"):         rRead,
	method("SetConfig"):         rWrite,

	method("WatchMachine"):        {target: ownMachine},
	method("MachineUnits"):        {target: ownMachine},
	method("SetMachineStatus"):    {target: ownMachine},
	method("IssueUnitCredential"): {target: machineUnit},

	method("WatchUnit"):             rUnit,
	method("UnitSnapshot"):          rUnit,
	method("GetCharm"):              {target: charmAgent},
	method("SetUnitStatus"):         rUnit,
	method("SetApplicationVersion"): rUnit,
	method("ClaimLeadership"):       rUnit,
	method("ClearResolved"):         rUnit,
	method("UnitDead"):              rUnit,
	method("AttachStorage"):         rUnit, // storage branch

	method("Integrate"):            rWrite,
	method("RemoveRelation"):       rWrite,
	method("EnterScope"):           rUnit,
	method("LeaveScope"):           rUnit,
	method("ReadRelationSettings"): rUnit,
	method("CommitHook"):           rUnit,
	method("SetLeaderSettings"):    rUnit,

	method("EnqueueAction"):  rWrite,
	method("GetTask"):        rRead,
	method("WatchTask"):      rRead,
	method("ListOperations"): rRead,
	method("EnqueueExec"):    rAdmin, // Juju: exec needs admin
	method("CancelTask"):     rWrite,

	method("BeginAction"):  rUnit,
	method("LogAction"):    rUnit,
	method("FinishAction"): rUnit,

	method("WatchMachineTasks"): {target: ownMachine},
	method("MachineTasks"):      {target: ownMachine},
	method("BeginMachineTask"):  {target: ownMachine},
	method("FinishMachineTask"): {target: ownMachine},

	method("AddMachine"):     rWrite,
	method("GetModelConfig"): rRead,
	method("SetModelConfig"): rWrite,

	method("SendLogs"): {target: modelAgent},
	method("DebugLog"): rRead,
	method("Refresh"):  rWrite,

	method("AddSecret"):    rWrite,
	method("UpdateSecret"): rWrite,
	method("GrantSecret"):  rWrite,
	method("RemoveSecret"): rWrite,
	method("ListSecrets"): {target: modelUser, level: func(m proto.Message) entity.Access {
		if r, ok := m.(*apipb.ListSecretsRequest); ok && r.Reveal {
			return entity.AccessAdmin
		}
		return entity.AccessRead
	}},

	method("ReadSecret"):        rUnit,
	method("OwnedSecrets"):      rUnit,
	method("DestroyModel"):      rAdmin,
	method("ShowUnitRelations"): rRead,
	method("SetTrust"):          rWrite,
	method("ModelConstraints"): {target: modelUser, level: func(m proto.Message) entity.Access {
		if r, ok := m.(*apipb.ModelConstraintsRequest); ok && r.Set {
			return entity.AccessWrite
		}
		return entity.AccessRead
	}},
	method("ModelSSHKeys"): {target: modelUser, level: func(m proto.Message) entity.Access {
		if r, ok := m.(*apipb.ModelSSHKeysRequest); ok && (len(r.Add) > 0 || len(r.Remove) > 0) {
			return entity.AccessAdmin
		}
		return entity.AccessRead
	}},
	method("RemoveMachine"): rWrite,
	method("GetResource"):   rUnit,
	method("UnitGoalState"): rUnit,
	method("UnitCloudSpec"): rUnit,

	method("AddUser"):            {target: superuser},
	method("GrantAccess"):        rAdmin,
	method("ChangeUserPassword"): {target: anyUser},
	method("WhoAmI"):             {target: anyIdentity},

	// cmr: offering needs admin on the offering model; consuming, write
	// on the consuming model (the handler also wants read on the
	// offering one, Juju's consume access); ListOffers filters by read.
	method("Offer"):                 rAdmin,
	method("RemoveOffer"):           rAdmin,
	method("ListOffers"):            {target: anyUser},
	method("Consume"):               rWrite,
	method("RemoveSaas"):            rWrite,
	method("RevokeAgent"):           rAdmin,
	method("RotateAgentCredential"): rAdmin,
	method("MachineCredential"):     {target: ownMachine},
	method("RotateCertificates"):    {target: superuser},
	method("StatusHistory"):         rRead,
}

// caller is an authenticated identity: its tag and, for a user, its
// document as read when the call was authenticated.
type caller struct {
	tag  entity.Tag
	user entity.User
}

type callerUserKey struct{}

func callerUser(ctx context.Context) entity.User {
	u, _ := ctx.Value(callerUserKey{}).(entity.User)
	return u
}

// lookups is what decide needs from the store.
type lookups interface {
	// modelUUID resolves a model name ("" = default); found false when
	// there is none.
	modelUUID(ctx context.Context, name string) (uuid string, found bool, err error)
	// unitMachine is the machine a unit is assigned to.
	unitMachine(ctx context.Context, model, unit string) (machine string, found bool, err error)
	// mayFetchCharm reports whether the agent's units' applications use
	// the charm at url (or another revision of it).
	mayFetchCharm(ctx context.Context, agent entity.Tag, url string) (bool, error)
}

// decide is the authorization decision for one call: nil, errPerm, or an
// error reading the store.
func decide(ctx context.Context, c caller, fullMethod string, req proto.Message, look lookups) error {
	r, ok := rules[fullMethod]
	if !ok {
		return errPerm // a method without a rule is refused
	}
	t := c.tag
	switch r.target {
	case anyIdentity:
		return nil
	case anyUser:
		return boolPerm(t.Kind == entity.KindUser)
	case superuser:
		return boolPerm(t.Kind == entity.KindUser && c.user.Superuser)
	case ownUnit:
		return boolPerm(t.Kind == entity.KindUnit && t.Name == stringField(req, "unit"))
	case ownMachine:
		return boolPerm(t.Kind == entity.KindMachine && t.Name == stringField(req, "machine"))
	case modelAgent:
		return boolPerm(t.Kind == entity.KindUnit || t.Kind == entity.KindMachine)
	case charmAgent:
		if t.Kind != entity.KindUnit && t.Kind != entity.KindMachine {
			return errPerm
		}
		ok, err := look.mayFetchCharm(ctx, t, stringField(req, "charm_url"))
		if err != nil {
			return err
		}
		return boolPerm(ok)
	case machineUnit:
		if t.Kind != entity.KindMachine {
			return errPerm
		}
		m, found, err := look.unitMachine(ctx, t.Model, stringField(req, "unit"))
		if err != nil {
			return err
		}
		return boolPerm(found && m == t.Name)
	case modelUser:
		if t.Kind != entity.KindUser {
			return errPerm
		}
		if c.user.Superuser {
			return nil // the handler answers NotFound for a missing model
		}
		uuid, found, err := look.modelUUID(ctx, stringField(req, "model"))
		if err != nil {
			return err
		}
		return boolPerm(found && c.user.ModelAccess(uuid).Includes(r.level(req)))
	}
	return errPerm
}

func boolPerm(ok bool) error {
	if ok {
		return nil
	}
	return errPerm
}

// stringField is the request's string field of that name, "" if none.
func stringField(m proto.Message, name string) string {
	if m == nil {
		return ""
	}
	msg := m.ProtoReflect()
	fd := msg.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return ""
	}
	return msg.Get(fd).String()
}

// storeLookups reads the store for decide.
type storeLookups struct{ s *Server }

func (l storeLookups) modelUUID(ctx context.Context, name string) (string, bool, error) {
	if name == "" {
		name = "default"
	}
	var uuid string
	_, err := l.s.cfg.Store.Get(ctx, entity.ModelNameKey("admin", name), &uuid)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	return uuid, err == nil, err
}

func (l storeLookups) unitMachine(ctx context.Context, model, unit string) (string, bool, error) {
	if _, _, ok := entity.SplitUnitName(unit); !ok {
		return "", false, nil
	}
	var u entity.Unit
	_, err := l.s.cfg.Store.Get(ctx, entity.UnitKey(model, unit), &u)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	return u.Machine, err == nil, err
}

func (l storeLookups) mayFetchCharm(ctx context.Context, agent entity.Tag, url string) (bool, error) {
	var apps []string
	switch agent.Kind {
	case entity.KindUnit:
		app, _, _ := entity.SplitUnitName(agent.Name)
		apps = []string{app}
	case entity.KindMachine:
		units, err := l.s.unitsOfMachine(ctx, agent.Model, agent.Name)
		if err != nil {
			return false, err
		}
		for _, u := range units {
			app, _, _ := entity.SplitUnitName(u)
			apps = append(apps, app)
		}
	}
	names := map[string]bool{}
	for _, name := range apps {
		var a entity.Application
		_, err := l.s.cfg.Store.Get(ctx, entity.ApplicationKey(agent.Model, name), &a)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if a.CharmURL == url {
			return true, nil
		}
		names[a.CharmName] = true
	}
	if len(names) == 0 || url == "" {
		return false, nil
	}
	var ch entity.Charm
	_, err := l.s.cfg.Store.Get(ctx, entity.CharmKey(agent.Model, url), &ch)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && names[ch.Name], err
}

func (s *Server) authorize(ctx context.Context, fullMethod string, req any) error {
	m, _ := req.(proto.Message)
	return decide(ctx, caller{tag: callerFrom(ctx), user: callerUser(ctx)}, fullMethod, m, storeLookups{s})
}

// authzStream authorizes the first request message of a stream before
// the handler sees it (every stream of service Controller is
// server-streaming: one request, then responses).
type authzStream struct {
	grpc.ServerStream
	s        *Server
	method   string
	received bool
}

func (a *authzStream) RecvMsg(m any) error {
	if err := a.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if !a.received {
		a.received = true
		return a.s.authorize(a.ServerStream.Context(), a.method, m)
	}
	return nil
}
