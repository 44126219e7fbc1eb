package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
)

// troupeAs runs the CLI with another TROUPE_HOME (another user's client
// state) and the given standard input.
func (e *env) troupeAs(home, input string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(e.bin, "troupe"), args...)
	cmd.Dir = e.root
	cmd.Env = append(e.environ(), "TROUPE_HOME="+home)
	cmd.Stdin = strings.NewReader(input)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{args: args, code: -1, stdout: out.String(), stderr: errb.String()}
	if cmd.ProcessState != nil {
		r.code = cmd.ProcessState.ExitCode()
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		r.err = err
	}
	return r
}

// newUserHome makes a client home for another user of e's controller.
func newUserHome(t *testing.T, e *env) string {
	home := t.TempDir()
	data, err := os.ReadFile(filepath.Join(e.home, "client.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "client.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

var addedPassword = regexp.MustCompile(`(?m)^    (\S+)$`)

func addUser(t *testing.T, e *env, name string) string {
	r := e.mustTroupe(commandTimeout, "add-user", name)
	if !strings.HasPrefix(r.stdout, fmt.Sprintf("User %q added\n", name)) {
		t.Fatalf("add-user output: %s", r)
	}
	m := addedPassword.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("add-user printed no password: %s", r)
	}
	return m[1]
}

// TestUsersAndAccess (issue 10 acceptance 5): add-user, grant, login,
// whoami, revoke, change-user-password and logout end to end; a read-only
// user can run status but not deploy.
func TestUsersAndAccess(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	pw := addUser(t, e, "bob")
	if r := e.troupe(commandTimeout, "add-user", "bob"); r.code == 0 || !strings.Contains(r.stderr, `user "bob" already exists`) {
		t.Errorf("second add-user bob: %s", r)
	}
	bob := newUserHome(t, e)
	if r := e.troupeAs(bob, "wrong-password\n", "login", "-u", "bob"); r.code == 0 {
		t.Errorf("login with a wrong password succeeded: %s", r)
	}
	r := e.troupeAs(bob, pw+"\n", "login", "-u", "bob")
	if r.code != 0 || !strings.Contains(r.stderr, "Welcome, bob.") {
		t.Fatalf("login: %s", r)
	}
	if r := e.troupeAs(bob, "", "whoami"); r.code != 0 || !strings.Contains(r.stdout, "User:        bob") {
		t.Errorf("whoami: %s", r)
	}
	// No access yet: even status is refused.
	if r := e.troupeAs(bob, "", "status"); r.code == 0 || !strings.Contains(r.stderr, "permission denied") {
		t.Errorf("status without access: %s", r)
	}
	e.mustTroupe(commandTimeout, "grant", "bob", "read", "default")
	if r := e.troupeAs(bob, "", "status", "--format", "json"); r.code != 0 {
		t.Fatalf("status as a read-only user: %s", r)
	}
	if r := e.troupeAs(bob, "", "deploy", "./testcharms/hello"); r.code == 0 || !strings.Contains(r.stderr, "permission denied") {
		t.Fatalf("deploy as a read-only user: %s", r)
	}
	if r := e.troupeAs(bob, "", "models", "--format", "json"); r.code != 0 || !strings.Contains(r.stdout, `"default"`) {
		t.Errorf("models as a read-only user: %s", r)
	}
	if r := e.troupeAs(bob, "", "add-model", "bobs"); r.code == 0 {
		t.Errorf("add-model by a non-superuser succeeded: %s", r)
	}
	if r := e.troupeAs(bob, "", "grant", "bob", "admin", "default"); r.code == 0 {
		t.Errorf("a read-only user granted themselves admin: %s", r)
	}
	// write: model-config may change; revoke write leaves read.
	e.mustTroupe(commandTimeout, "grant", "bob", "write", "default")
	if r := e.troupeAs(bob, "", "model-config", "update-status-hook-interval=7m"); r.code != 0 {
		t.Errorf("model-config as a writer: %s", r)
	}
	e.mustTroupe(commandTimeout, "revoke", "bob", "write", "default")
	if r := e.troupeAs(bob, "", "model-config", "update-status-hook-interval=8m"); r.code == 0 {
		t.Errorf("model-config after revoke write: %s", r)
	}
	if r := e.troupeAs(bob, "", "status"); r.code != 0 {
		t.Errorf("status after revoke write (read remains): %s", r)
	}
	// A new password: the old one stops working at once.
	if r := e.troupeAs(bob, "a new secret pw\na new secret pw\n", "change-user-password"); r.code != 0 {
		t.Fatalf("change-user-password: %s", r)
	}
	if r := e.troupeAs(bob, "", "status"); r.code != 0 {
		t.Errorf("status with the new password: %s", r)
	}
	stale := newUserHome(t, e)
	if r := e.troupeAs(stale, pw+"\n", "login", "-u", "bob"); r.code == 0 {
		t.Errorf("login with the replaced password succeeded: %s", r)
	}
	if r := e.troupeAs(bob, "", "logout"); r.code != 0 {
		t.Errorf("logout: %s", r)
	}
	if r := e.troupeAs(bob, "", "status"); r.code == 0 {
		t.Errorf("status after logout: %s", r)
	}
	if r := e.troupe(commandTimeout, "logout"); r.code == 0 || !strings.Contains(r.stderr, "preventing account loss") {
		t.Errorf("admin logout without --force: %s", r)
	}
}

// identity is one caller of the matrix.
type identity struct {
	name string
	info api.Info
}

// TestAuthorizationMatrix (issue 10 acceptances 1 and 2): every RPC of
// service Controller called by every identity kind, aimed at unit
// hello's leader, its machine and model default. Allowed calls must not be
// refused; every other call must fail with PermissionDenied or
// Unauthenticated, and refused calls change nothing (their requests
// carry a marker that must appear nowhere afterwards).
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "-n", "2")
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "other")
	// A machine whose agent credential is revoked below.
	spare := strings.TrimSpace(strings.TrimPrefix(e.mustTroupe(commandTimeout, "add-machine").stderr, "created machine "))
	waitFor(t, e, readyTimeout, "units active and idle", appsReady(map[string]int{"hello": 2, "other": 1}))
	waitFor(t, e, readyTimeout, "machine "+spare+" started", func(doc statusDoc) bool {
		return doc.Machines[spare].JujuStatus.Current == "started"
	})

	var cc struct {
		api.Info
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(e.home, "client.json"))), &cc); err != nil {
		t.Fatal(err)
	}
	agents := map[string]api.AgentConfig{} // unit name or "machine-N"
	for _, p := range findFiles(t, filepath.Join(e.home, "machines"), api.AgentConfigFile) {
		c, err := api.ReadAgentConfig(filepath.Dir(p))
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, st.Mode().Perm())
		}
		if c.Unit != "" {
			agents[c.Unit] = c
		} else {
			agents["machine-"+c.Machine] = c
		}
	}
	// The calling unit is hello's leader (leader-only calls must be
	// allowed to it), whichever of the two units won the lease.
	leaders := waitFor(t, e, readyTimeout, "hello and other have leaders", func(doc statusDoc) bool {
		n := 0
		for _, app := range []string{"hello", "other"} {
			for _, u := range doc.Applications[app].Units {
				if u.Leader {
					n++
				}
			}
		}
		return n == 2
	})
	ownName, otherName := "hello/0", "hello/1"
	if leaders.Applications["hello"].Units["hello/1"].Leader {
		ownName, otherName = otherName, ownName
	}
	own, ok := agents[ownName]
	if !ok || agents[otherName].Unit == "" || agents["other/0"].Unit == "" {
		t.Fatalf("agent configs found: %v", keys(agents))
	}
	var ownMachine string
	doc, _, err := e.status()
	if err != nil {
		t.Fatal(err)
	}
	ownMachine = doc.Applications["hello"].Units[ownName].Machine
	var otherMachine string
	for name, c := range agents {
		if strings.HasPrefix(name, "machine-") && c.Machine != ownMachine && c.Machine != spare {
			otherMachine = name
		}
	}
	mach, ok := agents["machine-"+ownMachine]
	if !ok || otherMachine == "" {
		t.Fatalf("no machine agent config for machine %q (or no other machine): %v", ownMachine, keys(agents))
	}

	// Users: reader, writer, model admin; a revoked credential (a
	// replaced password).
	user := func(name, level string) api.Info {
		pw := addUser(t, e, name)
		if level != "" {
			e.mustTroupe(commandTimeout, "grant", name, level, "default")
		}
		return api.Info{Addresses: cc.Addresses, CACert: cc.CACert, Tag: "user-" + name, Password: pw}
	}
	reader, writer, madmin := user("reader", "read"), user("writer", "write"), user("madmin", "admin")
	noAccess := user("dave", "")
	revoked := user("carol", "admin")
	carol := newUserHome(t, e)
	if r := e.troupeAs(carol, revoked.Password+"\n", "login", "-u", "carol"); r.code != 0 {
		t.Fatal(r)
	}
	if r := e.troupeAs(carol, "carol's new pw\n", "change-user-password"); r.code != 0 {
		t.Fatal(r)
	}
	// A revoked agent credential: the spare machine's agent, whose
	// password verified (and sits in the controller's cache) just before
	// revoke-agent, is refused on its very next call.
	spareInfo := agents["machine-"+spare].Info
	if spareInfo.Password == "" {
		t.Fatalf("no agent config for machine %s: %v", spare, keys(agents))
	}
	revokedAgent, err := api.Dial(spareInfo)
	if err != nil {
		t.Fatal(err)
	}
	defer revokedAgent.Close()
	rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer rcancel()
	if _, err := revokedAgent.MachineUnits(rctx, &apipb.MachineUnitsRequest{Machine: spare}); err != nil {
		t.Fatalf("machine %s before revocation: %v", spare, err)
	}
	if r := e.mustTroupe(commandTimeout, "revoke-agent", spare); !strings.Contains(r.stderr, "revoked machine-"+spare) {
		t.Errorf("revoke-agent output: %s", r)
	}
	_, err = revokedAgent.MachineUnits(rctx, &apipb.MachineUnitsRequest{Machine: spare})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("machine %s right after revoke-agent: %v, want Unauthenticated", spare, err)
	}
	ids := []identity{
		{"own-unit", own.Info},
		{"other-unit", agents[otherName].Info},
		{"other-app-unit", agents["other/0"].Info},
		{"own-machine", mach.Info},
		{"other-machine", agents[otherMachine].Info},
		{"no-access-user", noAccess}, {"reader", reader}, {"writer", writer}, {"model-admin", madmin},
		{"superuser", cc.Info},
		{"no-credential", api.Info{Addresses: cc.Addresses, CACert: cc.CACert}},
		{"revoked", revoked},
		{"revoked-agent", spareInfo},
	}

	// The expected matrix, written from the rules (not from the
	// server's table): which identities may call each method against
	// hello's leader, its machine and model default.
	users := func(min string) []string {
		switch min {
		case "read":
			return []string{"reader", "writer", "model-admin", "superuser"}
		case "write":
			return []string{"writer", "model-admin", "superuser"}
		case "admin":
			return []string{"model-admin", "superuser"}
		}
		return []string{"superuser"}
	}
	allUsers := []string{"reader", "writer", "model-admin", "superuser"}
	anyUser := append([]string{"no-access-user"}, allUsers...)
	everyone := append([]string{"own-unit", "other-unit", "other-app-unit", "own-machine", "other-machine"}, anyUser...)
	ownUnit := []string{"own-unit"}
	allowed := map[string][]string{
		"ControllerInfo": everyone, "WhoAmI": everyone,
		"ListModels": anyUser, "ChangeUserPassword": anyUser,
		"AddModel": users("super"), "DestroyController": users("super"), "AddUser": users("super"),
		"Status": users("read"), "GetConfig": users("read"), "GetTask": users("read"), "WatchTask": users("read"),
		"ListOperations": users("read"), "GetModelConfig": users("read"), "DebugLog": users("read"),
		"ListSecrets": users("read"), "ShowUnitRelations": users("read"), "ModelConstraints": users("read"),
		"ModelSSHKeys": users("read"), "StatusHistory": users("read"),
		"Deploy": users("write"), "ResolveUnit": users("write"), "AddUnit": users("write"),
		"RemoveApplication": users("write"), "RemoveUnit": users("write"), "SetConfig": users("write"),
		"Integrate": users("write"), "RemoveRelation": users("write"), "EnqueueAction": users("write"),
		"CancelTask": users("write"), "AddMachine": users("write"), "SetModelConfig": users("write"),
		"Refresh": users("write"), "AddSecret": users("write"), "UpdateSecret": users("write"),
		"GrantSecret": users("write"), "RemoveSecret": users("write"), "SetTrust": users("write"),
		"RemoveMachine": users("write"),
		"EnqueueExec":   users("admin"), "DestroyModel": users("admin"), "GrantAccess": users("admin"),
		"WatchMachine": {"own-machine"}, "MachineUnits": {"own-machine"}, "SetMachineStatus": {"own-machine"},
		"IssueUnitCredential": {"own-machine"},
		"WatchMachineTasks":   {"own-machine"}, "MachineTasks": {"own-machine"}, "BeginMachineTask": {"own-machine"},
		"FinishMachineTask": {"own-machine"},
		// An agent fetches only its units' applications' charms, and the
		// request names none of them (its charm_url is the marker).
		"GetCharm":  {},
		"SendLogs":  {"own-unit", "other-unit", "other-app-unit", "own-machine", "other-machine"},
		"WatchUnit": ownUnit, "UnitSnapshot": ownUnit, "SetUnitStatus": ownUnit,
		"SetApplicationVersion": ownUnit, "ClaimLeadership": ownUnit, "ClearResolved": ownUnit,
		"UnitDead": ownUnit, "EnterScope": ownUnit, "LeaveScope": ownUnit, "ReadRelationSettings": ownUnit,
		"CommitHook": ownUnit, "SetLeaderSettings": ownUnit, "BeginAction": ownUnit, "LogAction": ownUnit,
		"FinishAction": ownUnit, "ReadSecret": ownUnit, "OwnedSecrets": ownUnit, "GetResource": ownUnit,
		"UnitGoalState": ownUnit, "UnitCloudSpec": ownUnit,
		// cmr: offers need admin on the offering model; consuming needs
		// write on the consuming one; ListOffers shows only what the
		// caller can read.
		"Offer": users("admin"), "RemoveOffer": users("admin"), "ListOffers": anyUser,
		"Consume": users("write"), "RemoveSaas": users("write"),
		"AttachStorage": ownUnit,
		"RevokeAgent":   users("admin"), "RotateAgentCredential": users("admin"), "MachineCredential": {"own-machine"},
		"RotateCertificates": users("super"),
	}
	// Allowed calls that would tear the fixture down are not made; their
	// refusals are.
	destructive := map[string]bool{"DestroyController": true, "DestroyModel": true, "RemoveApplication": true,
		"RemoveUnit": true, "RemoveMachine": true, "UnitDead": true, "IssueUnitCredential": true, "LeaveScope": true,
		"ChangeUserPassword": true, "SetMachineStatus": true, "RevokeAgent": true, "RotateAgentCredential": true}

	const marker = "refused-by-matrix"
	conns := map[string]*api.Conn{}
	for _, id := range ids {
		c, err := api.Dial(id.info)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[id.name] = c
	}
	svc := apipb.File_troupe_proto.Services().ByName("Controller")
	for i := 0; i < svc.Methods().Len(); i++ {
		md := svc.Methods().Get(i)
		name := string(md.Name())
		ok, listed := allowed[name]
		if !listed {
			t.Errorf("RPC %s is not in the expected matrix", name)
			continue
		}
		may := map[string]bool{}
		for _, n := range ok {
			may[n] = true
		}
		for _, id := range ids {
			if may[id.name] && destructive[name] {
				continue
			}
			m := "allowed-by-matrix" // allowed calls may write theirs
			if !may[id.name] {
				m = marker
			}
			req := matrixRequest(md, m, ownMachine, ownName)
			err := invoke(conns[id.name].ClientConn(), md, req)
			code := status.Code(err)
			refused := code == codes.PermissionDenied || code == codes.Unauthenticated
			if may[id.name] && refused {
				t.Errorf("%s calling %s: refused (%v), want allowed", id.name, name, err)
			}
			if !may[id.name] && !refused {
				t.Errorf("%s calling %s: %v (code %v), want PermissionDenied or Unauthenticated", id.name, name, err, code)
			}
		}
	}
	// Nothing a refused call carried reached the model: the marker is in
	// no status, config, model list or secret list.
	for _, args := range [][]string{{"status", "--format", "json"}, {"config", "hello", "--format", "json"},
		{"models", "--format", "json"}, {"model-config", "--format", "json"}, {"secrets", "--format", "json"}} {
		if r := e.mustTroupe(commandTimeout, args...); strings.Contains(r.stdout, marker) {
			t.Errorf("troupe %s shows what a refused call sent:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
	if r := e.troupeAs(newUserHome(t, e), "x\n", "login", "-u", marker); r.code == 0 {
		t.Errorf("a user created by a refused AddUser can log in")
	}

	// Acceptance 2, spelled out: the other hello unit cannot read the leader's
	// snapshot, write other's application bag, or claim the leader's or
	// other/0's leadership.
	c := conns["other-unit"]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.UnitSnapshot(ctx, &apipb.UnitSnapshotRequest{Unit: ownName})
	wantDenied(t, otherName+" reading "+ownName+"'s snapshot", err)
	_, err = c.ClaimLeadership(ctx, &apipb.ClaimLeadershipRequest{Unit: ownName, DurationMs: 60000})
	wantDenied(t, otherName+" claiming leadership as "+ownName, err)
	_, err = c.ClaimLeadership(ctx, &apipb.ClaimLeadershipRequest{Unit: "other/0", DurationMs: 60000})
	wantDenied(t, "hello/1 claiming other's leadership", err)
	_, err = c.SetLeaderSettings(ctx, &apipb.SetLeaderSettingsRequest{Unit: "other/0", Settings: map[string]string{"k": marker}})
	wantDenied(t, "hello/1 writing other's application settings", err)
	_, err = c.CommitHook(ctx, &apipb.CommitHookRequest{Unit: "other/0"})
	wantDenied(t, "hello/1 committing a hook as other/0", err)
	// Size limits hold at the API too, for an agent bypassing the hook
	// tools: an over-long status message is refused and not recorded.
	_, err = conns["own-unit"].SetUnitStatus(ctx, &apipb.SetUnitStatusRequest{Unit: ownName,
		Workload: &apipb.StatusInfo{Current: "active", Message: marker + strings.Repeat("x", 16<<10)}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "workload status message too large (") {
		t.Errorf("own unit setting a 16 KiB status message: %v, want InvalidArgument … too large", err)
	}
	doc, _, err = e.status()
	if err != nil {
		t.Fatal(err)
	}
	for name, u := range doc.Applications["other"].Units {
		if !u.Leader {
			t.Errorf("%s lost leadership to a refused claim", name)
		}
	}
	// And nowhere in the store: with the controller stopped, every
	// document is read back and searched for the marker (secret values
	// are sealed, which is why the secrets list is checked above too).
	restartControllerWith(t, e, func() {
		out, err := exec.Command(filepath.Join(e.bin, "trouped"), "store-dump", "--data-dir", filepath.Join(e.home, "controller"), "/").CombinedOutput()
		if err != nil {
			t.Fatalf("trouped store-dump: %v\n%s", err, out)
		}
		if n := strings.Count(string(out), "\n"); n < 10 {
			t.Fatalf("store-dump listed %d documents; want the whole model:\n%s", n, out)
		}
		if !strings.Contains(string(out), "allowed-by-matrix") {
			t.Errorf("store-dump shows nothing the allowed calls wrote, so it would miss a refused one too")
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, marker) {
				t.Errorf("the store holds what a refused call sent: %.300s", l)
			}
		}
	})
}

func wantDenied(t *testing.T, what string, err error) {
	t.Helper()
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("%s: %v, want PermissionDenied", what, err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// matrixRequest is a request of md's input type aimed at unit, its
// machine, model default and application hello, with every other string
// and map field carrying the marker.
func matrixRequest(md protoreflect.MethodDescriptor, marker, machine, unit string) *dynamicpb.Message {
	msg := dynamicpb.NewMessage(md.Input())
	fields := md.Input().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		switch {
		case fd.IsMap() && fd.MapKey().Kind() == protoreflect.StringKind && fd.MapValue().Kind() == protoreflect.StringKind:
			mp := msg.Mutable(fd).Map()
			mp.Set(protoreflect.ValueOfString("greeting").MapKey(), protoreflect.ValueOfString(marker))
		case fd.IsList() || fd.Kind() != protoreflect.StringKind:
			continue
		default:
			v := marker
			switch fd.Name() {
			case "unit":
				v = unit
			case "machine":
				v = machine
			case "model":
				v = "default"
			case "application":
				v = "hello"
			}
			msg.Set(fd, protoreflect.ValueOfString(v))
		}
	}
	return msg
}

// invoke calls md with req; for a server stream, it waits up to two
// seconds for the first message (a call left waiting was not refused).
func invoke(cc grpc.ClientConnInterface, md protoreflect.MethodDescriptor, req *dynamicpb.Message) error {
	full := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := dynamicpb.NewMessage(md.Output())
	if !md.IsStreamingServer() {
		return cc.Invoke(ctx, full, req, out)
	}
	sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
	defer scancel()
	st, err := cc.NewStream(sctx, &grpc.StreamDesc{ServerStreams: true}, full)
	if err != nil {
		return err
	}
	if err := st.SendMsg(req); err != nil {
		return err
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	err = st.RecvMsg(out)
	if status.Code(err) == codes.DeadlineExceeded {
		return nil
	}
	return err
}
