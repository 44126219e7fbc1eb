package tests

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/pki"
)

// machineAgentConf is the path of machine id's agent.conf under e's home.
func machineAgentConf(t *testing.T, e *env, id string) string {
	t.Helper()
	for _, p := range findFiles(t, filepath.Join(e.home, "machines"), api.AgentConfigFile) {
		if c, err := api.ReadAgentConfig(filepath.Dir(p)); err == nil && c.Unit == "" && c.Machine == id {
			return p
		}
	}
	t.Fatalf("no agent.conf for machine %s", id)
	return ""
}

// callMachineUnits makes one authenticated call as info's machine.
func callMachineUnits(info api.Info, machine string) error {
	c, err := api.Dial(info)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.MachineUnits(ctx, &apipb.MachineUnitsRequest{Machine: machine})
	return err
}

// TestAgentCredentialRotation (issue 10, agent identities): the
// controller issues a machine agent a new credential on
// `rotate-agent-credential`; the agent stores it in agent.conf (0600),
// reconnects with it and keeps working (it deploys a unit afterwards);
// the old credential stops working once the new one is used.
// `revoke-agent` then cuts off the machine and its unit at once.
func TestAgentCredentialRotation(t *testing.T) {
	t.Parallel() // mostly waiting on agents; see tests/doc.go
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	id := strings.TrimSpace(strings.TrimPrefix(e.mustTroupe(commandTimeout, "add-machine").stderr, "created machine "))
	waitFor(t, e, readyTimeout, "machine "+id+" started", func(doc statusDoc) bool {
		return doc.Machines[id].JujuStatus.Current == "started"
	})
	confPath := machineAgentConf(t, e, id)
	old, err := api.ReadAgentConfig(filepath.Dir(confPath))
	if err != nil {
		t.Fatal(err)
	}
	if err := callMachineUnits(old.Info, id); err != nil {
		t.Fatalf("old credential before rotation: %v", err)
	}
	if r := e.troupe(commandTimeout, "rotate-agent-credential", "hello/0"); r.code == 0 || !strings.Contains(r.stderr, "expected one machine id") {
		t.Errorf("rotate-agent-credential of a unit: %s", r)
	}
	e.mustTroupe(commandTimeout, "rotate-agent-credential", id)

	var cur api.AgentConfig
	deadline := time.Now().Add(readyTimeout)
	for {
		cur, err = api.ReadAgentConfig(filepath.Dir(confPath))
		if err == nil && cur.Password != old.Password {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent.conf still has the old password after %v (err %v)", readyTimeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st, err := os.Stat(confPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("agent.conf after rotation: %v, %v; want mode 0600", st, err)
	}
	if cur.Tag != old.Tag || cur.Machine != old.Machine {
		t.Errorf("rotation changed the identity: %s/%s -> %s/%s", old.Tag, old.Machine, cur.Tag, cur.Machine)
	}
	// The agent reconnects with the new credential; once it is used, the
	// old one is refused.
	deadline = time.Now().Add(readyTimeout)
	for {
		err := callMachineUnits(old.Info, id)
		if status.Code(err) == codes.Unauthenticated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old credential still accepted %v after rotation: %v", readyTimeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err := callMachineUnits(cur.Info, id); err != nil {
		t.Fatalf("new credential: %v", err)
	}
	// The rotated agent still does its job: it deploys a unit.
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "--to", id)
	waitFor(t, e, readyTimeout, "hello/0 on machine "+id+" active", appsReady(map[string]int{"hello": 1}))

	// revoke-agent: the machine and its unit are refused at once.
	unitConf := ""
	for _, p := range findFiles(t, filepath.Join(e.home, "machines"), api.AgentConfigFile) {
		if c, err := api.ReadAgentConfig(filepath.Dir(p)); err == nil && c.Unit == "hello/0" {
			unitConf = p
		}
	}
	if unitConf == "" {
		t.Fatal("no agent.conf for hello/0")
	}
	uc, err := api.ReadAgentConfig(filepath.Dir(unitConf))
	if err != nil {
		t.Fatal(err)
	}
	// An open stream of the revoked agent is ended too.
	sconn, err := api.Dial(cur.Info)
	if err != nil {
		t.Fatal(err)
	}
	defer sconn.Close()
	sctx, scancel := context.WithTimeout(context.Background(), readyTimeout)
	defer scancel()
	watch, err := sconn.WatchMachine(sctx, &apipb.WatchMachineRequest{Machine: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil {
		t.Fatalf("first event of the machine's watch: %v", err)
	}
	r := e.mustTroupe(commandTimeout, "revoke-agent", id)
	for {
		if _, err := watch.Recv(); err != nil {
			if sctx.Err() != nil {
				t.Errorf("the revoked machine's watch stayed open for %v", readyTimeout)
			}
			break
		}
	}
	if !strings.Contains(r.stderr, "revoked machine-"+id+"\n") || !strings.Contains(r.stderr, "revoked unit-hello-0\n") {
		t.Errorf("revoke-agent output: %s", r)
	}
	if err := callMachineUnits(cur.Info, id); status.Code(err) != codes.Unauthenticated {
		t.Errorf("revoked machine credential: %v, want Unauthenticated", err)
	}
	uconn, err := api.Dial(uc.Info)
	if err != nil {
		t.Fatal(err)
	}
	defer uconn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := uconn.UnitSnapshot(ctx, &apipb.UnitSnapshotRequest{Unit: "hello/0"}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("revoked unit credential: %v, want Unauthenticated", err)
	}
	if r := e.troupe(commandTimeout, "rotate-agent-credential", id); r.code == 0 || !strings.Contains(r.stderr, "revoked") {
		t.Errorf("rotating a revoked machine: %s", r)
	}
	if r := e.troupe(commandTimeout, "revoke-agent", "nosuch/7"); r.code == 0 || !strings.Contains(r.stderr, `unit "nosuch/7" not found`) {
		t.Errorf("revoke-agent of a missing unit: %s", r)
	}
}

// TestRotateCerts (issue 10, TLS): `troupe rotate-certs` makes the
// controller serve a new certificate from its CA to new connections at
// once, while an open API connection keeps working; clients pin the CA,
// so they accept the new certificate unchanged.
func TestRotateCerts(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	var cc struct{ api.Info }
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(e.home, "client.json"))), &cc); err != nil {
		t.Fatal(err)
	}
	serial := func() string {
		t.Helper()
		tc, err := pki.ClientTLS([]byte(cc.CACert))
		if err != nil {
			t.Fatal(err)
		}
		c, err := tls.Dial("tcp", cc.Addresses[0], tc)
		if err != nil {
			t.Fatalf("TLS handshake pinned to the controller CA: %v", err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
	}
	open, err := api.Dial(cc.Info)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := open.WhoAmI(ctx, &apipb.WhoAmIRequest{}); err != nil {
		t.Fatal(err)
	}
	before := serial()
	r := e.mustTroupe(commandTimeout, "rotate-certs")
	after := serial()
	if after == before || !strings.Contains(r.stdout, "New API server certificate "+after+",") {
		t.Errorf("serial before %s, after %s; rotate-certs said %q", before, after, r.stdout)
	}
	if _, err := open.WhoAmI(ctx, &apipb.WhoAmIRequest{}); err != nil {
		t.Errorf("the connection opened before the rotation: %v", err)
	}
	if r := e.troupe(commandTimeout, "status"); r.code != 0 {
		t.Errorf("status (a new connection) after rotation: %s", r)
	}
	if st, err := os.Stat(filepath.Join(e.home, "controller", "server-cert.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("rotated certificate on disk: %v, %v; want mode 0600", st, err)
	}
}
