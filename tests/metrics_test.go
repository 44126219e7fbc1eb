package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrapeResult is one scrape of a metrics endpoint: each sample by its
// series ("name{k="v",...}" with labels sorted as exposed) and the
// families that have HELP text.
type scrapeResult struct {
	samples map[string]float64
	help    map[string]bool
	raw     string
}

var seriesRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)`)

// scrape GETs http://<addr>/metrics, as curl would.
func scrape(t *testing.T, addr string) scrapeResult {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %d, %v\n%s", addr, resp.StatusCode, err, body)
	}
	r := scrapeResult{samples: map[string]float64{}, help: map[string]bool{}, raw: string(body)}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, text, _ := strings.Cut(rest, " ")
			r.help[name] = text != ""
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		m := seriesRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("scrape %s: cannot parse line %q", addr, line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("scrape %s: bad value in %q", addr, line)
		}
		r.samples[m[1]+m[2]] = v
	}
	return r
}

// get is the value of one series; missing series fail the test.
func (r scrapeResult) get(t *testing.T, series string) float64 {
	t.Helper()
	v, ok := r.samples[series]
	if !ok {
		t.Fatalf("no series %s in scrape:\n%s", series, r.grep(strings.SplitN(series, "{", 2)[0]))
	}
	return v
}

// sum adds every sample of name (all label values).
func (r scrapeResult) sum(name string) float64 {
	var s float64
	for k, v := range r.samples {
		if k == name || strings.HasPrefix(k, name+"{") {
			s += v
		}
	}
	return s
}

func (r scrapeResult) grep(name string) string {
	var b strings.Builder
	for _, l := range strings.Split(r.raw, "\n") {
		if strings.Contains(l, name) {
			fmt.Fprintln(&b, l)
		}
	}
	return b.String()
}

// requireFamilies fails unless every family has HELP text in the scrape.
func (r scrapeResult) requireFamilies(t *testing.T, what string, names ...string) {
	t.Helper()
	for _, n := range names {
		if !r.help[n] {
			t.Errorf("%s: family %s missing or without HELP", what, n)
		}
	}
}

func readAddr(t *testing.T, dir string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, err := os.ReadFile(filepath.Join(dir, "metrics.addr"))
		if err == nil && strings.TrimSpace(string(data)) != "" {
			return strings.TrimSpace(string(data))
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metrics.addr in %s: %v", dir, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestMetrics is issue 9's acceptance point 1: after a deploy, the
// controller's and a machine agent's metrics endpoints (found through the
// metrics.addr files) show the key families with sane values, and they
// move after a config change.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)))
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "-n", "2")
	waitFor(t, e, readyTimeout, "hello units active and idle", appsReady(map[string]int{"hello": 2}))

	ctl := scrape(t, readAddr(t, filepath.Join(e.home, "controller")))
	ctl.requireFamilies(t, "controller", "troupe_api_requests_total", "troupe_api_request_duration_seconds",
		"troupe_api_authentications_total", "troupe_agents_connected", "troupe_actor_restarts_total",
		"troupe_actors_parked_total", "troupe_store_request_duration_seconds", "troupe_entities",
		"troupe_actor_mailbox_depth", "troupe_actor_messages_total", "troupe_agents", "troupe_api_logins_throttled_total")
	if v := ctl.get(t, `troupe_api_requests_total{code="OK",method="Deploy"}`); v != 1 {
		t.Errorf("Deploy requests = %v, want 1", v)
	}
	if v := ctl.get(t, `troupe_api_request_duration_seconds_count{method="Deploy"}`); v != 1 {
		t.Errorf("Deploy latency samples = %v, want 1", v)
	}
	if v := ctl.get(t, `troupe_entities{kind="unit",life="alive"}`); v != 2 {
		t.Errorf("alive units = %v, want 2", v)
	}
	if v := ctl.get(t, `troupe_entities{kind="application",life="alive"}`); v != 1 {
		t.Errorf("alive applications = %v, want 1", v)
	}
	if v := ctl.get(t, `troupe_agents_connected{kind="machine"}`); v != 2 {
		t.Errorf("connected machine agents = %v, want 2", v)
	}
	if v := ctl.get(t, `troupe_agents_connected{kind="unit"}`); v != 2 {
		t.Errorf("connected unit agents = %v, want 2", v)
	}
	if v := ctl.get(t, `troupe_api_authentications_total{kind="user",result="ok"}`); v < 1 {
		t.Errorf("user logins = %v, want > 0", v)
	}
	if v := ctl.get(t, `troupe_store_request_duration_seconds_count{op="commit"}`); v < 1 {
		t.Errorf("store commits = %v, want > 0", v)
	}
	if v := ctl.get(t, `troupe_actor_restarts_total`); v != 0 {
		t.Errorf("actor restarts = %v after a clean deploy, want 0", v)
	}
	// Presence as status shows it: every agent of the deploy connected.
	for _, kind := range []string{"machine", "unit"} {
		if v := ctl.get(t, fmt.Sprintf(`troupe_agents{kind=%q,state="connected"}`, kind)); v != 2 {
			t.Errorf("connected %s agents by presence = %v, want 2", kind, v)
		}
		for _, st := range []string{"disconnected", "lost"} {
			if v := ctl.get(t, fmt.Sprintf(`troupe_agents{kind=%q,state=%q}`, kind, st)); v != 0 {
				t.Errorf("%s %s agents = %v, want 0", st, kind, v)
			}
		}
	}
	if v := ctl.sum("troupe_api_logins_throttled_total"); v != 0 {
		t.Errorf("throttled logins = %v for two machines, want 0", v)
	}
	// Every kind of actor the deploy used got messages; mailboxes drain.
	for _, kind := range []string{"models", "model", "application", "unit", "machine"} {
		if v := ctl.get(t, fmt.Sprintf(`troupe_actor_messages_total{kind=%q}`, kind)); v < 1 {
			t.Errorf("messages to %s actors = %v, want > 0", kind, v)
		}
		if v := ctl.get(t, fmt.Sprintf(`troupe_actor_mailbox_depth{kind=%q}`, kind)); v < 0 || v > 100 {
			t.Errorf("mailbox depth of %s actors = %v, want a small non-negative number", kind, v)
		}
	}

	machines, err := filepath.Glob(filepath.Join(e.home, "machines", "*"))
	if err != nil || len(machines) != 2 {
		t.Fatalf("want 2 machine dirs, got %v %v", machines, err)
	}
	maddr := readAddr(t, machines[0])
	agent := scrape(t, maddr)
	agent.requireFamilies(t, "machine agent", "troupe_hook_runs_total", "troupe_hook_duration_seconds",
		"troupe_machine_lock_wait_seconds", "troupe_machine_lock_hold_seconds", "troupe_outbox_pending",
		"troupe_outbox_oldest_age_seconds", "troupe_engine_worker_starts_total", "troupe_engine_worker_restarts_total",
		"troupe_agent_api_reconnects_total", "troupe_unit_agents")
	for _, h := range []string{"install", "start"} {
		if v := agent.get(t, fmt.Sprintf(`troupe_hook_runs_total{hook=%q}`, h)); v < 1 {
			t.Errorf("%s runs = %v, want > 0", h, v)
		}
	}
	if v := agent.get(t, `troupe_hook_duration_seconds_count{hook="install"}`); v < 1 {
		t.Errorf("install duration samples = %v, want > 0", v)
	}
	if v := agent.get(t, `troupe_machine_lock_wait_seconds_count`); v < 1 {
		t.Errorf("machine lock wait samples = %v, want > 0", v)
	}
	if v := agent.get(t, `troupe_machine_lock_hold_seconds_count`); v < 1 {
		t.Errorf("machine lock hold samples = %v, want > 0", v)
	}
	if v := agent.get(t, `troupe_unit_agents`); v != 1 {
		t.Errorf("unit agents on the machine = %v, want 1", v)
	}
	if v := agent.sum("troupe_hook_failures_total"); v != 0 {
		t.Errorf("hook failures = %v, want 0", v)
	}
	if v := agent.get(t, `troupe_engine_worker_starts_total{agent="machine",manifold="deployer"}`); v < 1 {
		t.Errorf("deployer starts = %v, want > 0", v)
	}
	if v := agent.sum("troupe_outbox_pending"); v != 0 {
		t.Errorf("outbox pending once idle = %v, want 0", v)
	}
	var unitName string
	for k := range agent.samples {
		if u, ok := strings.CutPrefix(k, `troupe_outbox_pending{unit="`); ok {
			unitName = strings.TrimSuffix(u, `"}`)
		}
	}
	if unitName == "" {
		t.Fatalf("no outbox series for the machine's unit:\n%s", agent.grep("troupe_outbox"))
	}
	if v := agent.get(t, fmt.Sprintf(`troupe_outbox_oldest_age_seconds{unit=%q}`, unitName)); v != 0 {
		t.Errorf("outbox age of %s once idle = %v, want 0", unitName, v)
	}
	for _, a := range []string{"machine", unitName} {
		if v := agent.get(t, fmt.Sprintf(`troupe_agent_api_reconnects_total{agent=%q}`, a)); v != 0 {
			t.Errorf("API reconnects of %s without a controller restart = %v, want 0", a, v)
		}
	}
	// The machine lock is part of the agent report.
	rep := e.mustTroupe(commandTimeout, "show-agent-report", unitName, "--format", "json")
	var report map[string]json.RawMessage
	if err := json.Unmarshal([]byte(rep.stdout), &report); err != nil {
		t.Fatalf("show-agent-report: %v\n%s", err, rep.stdout)
	}
	if _, ok := report["machine-lock"]; !ok || report[unitName] == nil {
		t.Errorf("show-agent-report %s lacks the unit's engine or the machine lock:\n%s", unitName, rep.stdout)
	}
	t.Logf("controller: Deploy took %.3fs; %v store commits averaging %.2fms; machine agent: install %.3fs, start %.3fs; lock held %v times, %.3fs in all",
		ctl.get(t, `troupe_api_request_duration_seconds_sum{method="Deploy"}`),
		ctl.get(t, `troupe_store_request_duration_seconds_count{op="commit"}`),
		1000*ctl.get(t, `troupe_store_request_duration_seconds_sum{op="commit"}`)/ctl.get(t, `troupe_store_request_duration_seconds_count{op="commit"}`),
		agent.get(t, `troupe_hook_duration_seconds_sum{hook="install"}`), agent.get(t, `troupe_hook_duration_seconds_sum{hook="start"}`),
		agent.get(t, `troupe_machine_lock_hold_seconds_count`), agent.get(t, `troupe_machine_lock_hold_seconds_sum`))
	before := agent.get(t, `troupe_hook_runs_total{hook="config-changed"}`)
	deployBefore := ctl.get(t, `troupe_api_requests_total{code="OK",method="Deploy"}`)
	lockBefore := agent.get(t, `troupe_machine_lock_hold_seconds_count`)
	appMsgsBefore := ctl.get(t, `troupe_actor_messages_total{kind="application"}`)

	e.mustTroupe(commandTimeout, "config", "hello", "greeting=x")
	deadline := time.Now().Add(readyTimeout)
	for {
		agent = scrape(t, maddr)
		// The lock is released after the hook is counted: wait for both.
		if agent.get(t, `troupe_hook_runs_total{hook="config-changed"}`) > before &&
			agent.get(t, `troupe_machine_lock_hold_seconds_count`) > lockBefore {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("config-changed runs (from %v) and lock holds (from %v) did not both move:\n%s%s", before, lockBefore,
				agent.grep("troupe_hook_runs_total"), agent.grep("troupe_machine_lock_hold_seconds_count"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A CLI with a wrong password is refused; the refusal is counted
	// (the metrics interceptor sits outside authentication).
	failedBefore := ctl.samples[`troupe_api_authentications_total{kind="user",result="failed"}`]
	var cc map[string]any
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(e.home, "client.json"))), &cc); err != nil {
		t.Fatal(err)
	}
	cc["password"] = "wrong"
	data, _ := json.Marshal(cc)
	bad := *e
	bad.home = t.TempDir()
	if err := os.WriteFile(filepath.Join(bad.home, "client.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := bad.troupe(commandTimeout, "status"); r.code == 0 || !strings.Contains(r.stderr, "ERROR") {
		t.Errorf("status with a wrong password must fail: %s", r)
	}

	ctl2 := scrape(t, readAddr(t, filepath.Join(e.home, "controller")))
	if got := ctl2.get(t, `troupe_api_authentications_total{kind="user",result="failed"}`); got <= failedBefore {
		t.Errorf("failed user logins did not move: %v then %v", failedBefore, got)
	}
	if got := ctl2.sum("troupe_api_requests_total"); got <= ctl.sum("troupe_api_requests_total") {
		t.Errorf("API request total did not move: %v then %v", ctl.sum("troupe_api_requests_total"), got)
	}
	if got := ctl2.get(t, `troupe_actor_messages_total{kind="application"}`); got <= appMsgsBefore {
		t.Errorf("messages to application actors did not move with a config change: %v then %v", appMsgsBefore, got)
	}
	if got := ctl2.get(t, `troupe_api_requests_total{code="OK",method="Deploy"}`); got != deployBefore {
		t.Errorf("Deploy requests moved without a deploy: %v then %v", deployBefore, got)
	}
}
