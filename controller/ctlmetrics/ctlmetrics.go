// Package ctlmetrics holds the controller's Prometheus families: API
// requests (count and latency by method), authentications, connected
// agents (live WatchMachine / WatchUnit streams), actor restarts and
// parks, store request latency, and entity counts by kind and life.
//
// A Metrics value is the observer each component accepts: gRPC
// interceptors for the API server (installed outside authentication, so
// auth.go is untouched), supervise.Observer for the actor strategy and
// store.Observer for the store. Entity counts are read from the store at
// scrape time (see entities.go).
//
// Who imports it: controller (its manifolds).
package ctlmetrics

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/metrics"
)

// Family names.
const (
	APIRequests     = metrics.Namespace + "api_requests_total"
	APILatency      = metrics.Namespace + "api_request_duration_seconds"
	Authentications = metrics.Namespace + "api_authentications_total"
	AgentsConnected = metrics.Namespace + "agents_connected"
	AgentStreamEnds = metrics.Namespace + "agent_disconnects_total"
	ActorRestarts   = metrics.Namespace + "actor_restarts_total"
	ActorsParked    = metrics.Namespace + "actors_parked_total"
	StoreLatency    = metrics.Namespace + "store_request_duration_seconds"
	StoreErrors     = metrics.Namespace + "store_request_errors_total"
	Entities        = metrics.Namespace + "entities"
	EntityErrors    = metrics.Namespace + "entity_count_errors_total"
	LoginsThrottled = metrics.Namespace + "api_logins_throttled_total"
	MailboxDepth    = metrics.Namespace + "actor_mailbox_depth"
	MailboxMessages = metrics.Namespace + "actor_messages_total"
	AgentErrors     = metrics.Namespace + "agent_count_errors_total"
)

// Metrics is the controller's set of families. Safe for concurrent use.
type Metrics struct {
	reg          *metrics.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	auth         *prometheus.CounterVec
	connected    *prometheus.GaugeVec
	disconnects  *prometheus.CounterVec
	streamsMu    sync.Mutex
	streams      map[string]int // agent tag → its open watch streams; guarded by streamsMu
	restarts     prometheus.Counter
	parked       prometheus.Counter
	storeLatency *prometheus.HistogramVec
	storeErrors  *prometheus.CounterVec
	entities     *entityCollector
	throttled    *prometheus.CounterVec
	mailboxDepth *prometheus.GaugeVec
	messages     *prometheus.CounterVec
	agents       *agentCollector
}

// New registers the controller's families in a new registry.
func New() *Metrics {
	r := metrics.NewRegistry()
	m := &Metrics{
		reg: r,
		requests: r.CounterVec(APIRequests,
			"API calls served, by gRPC method and status code (streams are counted when they end).", "method", "code"),
		latency: r.HistogramVec(APILatency,
			"Latency of unary API calls by gRPC method, authentication included.", metrics.LatencyBuckets, "method"),
		auth: r.CounterVec(Authentications,
			"Authentications (every API call logs in; streams are counted when they end) by caller kind (user, machine, unit) and result (ok, failed, throttled).", "kind", "result"),
		connected: r.GaugeVec(AgentsConnected,
			"Agents connected now: agents with a live WatchMachine (kind=machine) or WatchUnit (kind=unit) stream, each counted once however many it holds.", "kind"),
		disconnects: r.CounterVec(AgentStreamEnds,
			"Agent watch streams that ended, by kind (machine, unit).", "kind"),
		restarts: r.Counter(ActorRestarts,
			"Entity actors restarted from persisted state after a panic."),
		parked: r.Counter(ActorsParked,
			"Entity actors stopped for exceeding their restart intensity (parked)."),
		storeLatency: r.HistogramVec(StoreLatency,
			"Latency of etcd requests by operation (commit, get, list).", metrics.LatencyBuckets, "op"),
		storeErrors: r.CounterVec(StoreErrors,
			"Failed etcd requests by operation; not-found reads and conflicting commits are not failures.", "op"),
		entities: &entityCollector{desc: prometheus.NewDesc(Entities,
			"Model entities by kind (model, application, unit, machine, relation) and life (alive, dying, dead).",
			[]string{"kind", "life"}, nil)},
	}
	m.throttled = r.CounterVec(LoginsThrottled,
		"Agent logins refused by the login rate limiter (codes.ResourceExhausted), by caller kind (machine, unit).", "kind")
	for _, k := range []string{"machine", "unit"} {
		m.throttled.WithLabelValues(k) // shown at 0 before the first refusal
	}
	m.entities.errors = r.Counter(EntityErrors, "Scrapes whose entity count could not be read from the store.")
	r.Register(m.entities, Entities)
	m.mailboxDepth = r.GaugeVec(MailboxDepth,
		"Messages posted and not yet handled (the one in hand included) in the mailboxes of the actors of a kind (models, model, application, unit, machine, relation, task, secret), summed over the kind's actors.", "kind")
	m.messages = r.CounterVec(MailboxMessages,
		"Messages posted to the actors of a kind, system messages included.", "kind")
	m.agents = &agentCollector{desc: prometheus.NewDesc(Agents,
		"Agents by kind (machine, unit) and presence (connected, disconnected, lost), as status shows them; an agent counts once its entity has a credential, until it is dead.",
		[]string{"kind", "state"}, nil)}
	m.agents.errors = r.Counter(AgentErrors, "Scrapes whose agent count could not be read from the store.")
	r.Register(m.agents, Agents)
	return m
}

// Registry is the registry holding the families.
func (m *Metrics) Registry() *metrics.Registry { return m.reg }

// method is the last element of a gRPC full method name.
func method(full string) string { return full[strings.LastIndexByte(full, '/')+1:] }

// callerKind is the kind of the tag the caller presented, from its
// metadata (before authentication decides whether to believe it).
func callerKind(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	tags := md.Get(api.MDTag)
	if len(tags) != 1 {
		return "none"
	}
	for _, k := range []string{"user", "machine", "unit"} {
		if strings.HasPrefix(tags[0], k+"-") {
			return k
		}
	}
	return "unknown"
}

// agentKind is "machine" or "unit" for the agents' watch streams, "" for
// every other method.
func agentKind(method string) string {
	switch method {
	case "WatchMachine":
		return "machine"
	case "WatchUnit":
		return "unit"
	}
	return ""
}

func (m *Metrics) finish(ctx context.Context, meth string, err error) {
	code := status.Code(err)
	m.requests.WithLabelValues(meth, code.String()).Inc()
	result := "ok"
	switch {
	case code == codes.Unauthenticated:
		result = "failed"
	case code == codes.ResourceExhausted && strings.HasPrefix(status.Convert(err).Message(), "login throttled"):
		result = "throttled" // refused by the API server's login rate limiter
	}
	m.auth.WithLabelValues(callerKind(ctx), result).Inc()
}

// Unary is a grpc.UnaryServerInterceptor; install it outside the
// authenticating one, so failed logins are counted too.
func (m *Metrics) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := h(ctx, req)
	meth := method(info.FullMethod)
	m.latency.WithLabelValues(meth).Observe(time.Since(start).Seconds())
	m.finish(ctx, meth, err)
	return resp, err
}

// Stream is a grpc.StreamServerInterceptor, installed like Unary. An
// agent with a watch stream running counts as connected (once, however
// many watches it holds: a machine agent's credential worker watches its
// machine too); a stream refused by authentication ends at once.
func (m *Metrics) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	meth := method(info.FullMethod)
	kind := agentKind(meth)
	var tag string
	if kind != "" {
		md, _ := metadata.FromIncomingContext(ss.Context())
		if v := md.Get(api.MDTag); len(v) == 1 {
			tag = v[0]
		}
		if m.openStream(tag) {
			m.connected.WithLabelValues(kind).Inc()
		}
	}
	err := h(srv, ss)
	if kind != "" && m.closeStream(tag) {
		m.connected.WithLabelValues(kind).Dec()
		m.disconnects.WithLabelValues(kind).Inc()
	}
	m.finish(ss.Context(), meth, err)
	return err
}

// openStream records a watch stream of agent tag and reports whether it
// is the agent's first.
func (m *Metrics) openStream(tag string) bool {
	m.streamsMu.Lock()
	defer m.streamsMu.Unlock()
	if m.streams == nil {
		m.streams = map[string]int{}
	}
	m.streams[tag]++
	return m.streams[tag] == 1
}

// closeStream records the end of a watch stream of tag and reports
// whether it was the agent's last.
func (m *Metrics) closeStream(tag string) bool {
	m.streamsMu.Lock()
	defer m.streamsMu.Unlock()
	m.streams[tag]--
	if m.streams[tag] > 0 {
		return false
	}
	delete(m.streams, tag)
	return true
}

// LoginThrottled implements apiserver.LoginObserver.
func (m *Metrics) LoginThrottled(kind string) { m.throttled.WithLabelValues(kind).Inc() }

// ActorRestarted implements supervise.Observer.
func (m *Metrics) ActorRestarted() { m.restarts.Inc() }

// ActorParked implements supervise.Observer.
func (m *Metrics) ActorParked() { m.parked.Inc() }

// ObserveStore implements store.Observer.
func (m *Metrics) ObserveStore(op string, took time.Duration, err error) {
	m.storeLatency.WithLabelValues(op).Observe(took.Seconds())
	if err != nil && !expected(err) {
		m.storeErrors.WithLabelValues(op).Inc()
	}
}
