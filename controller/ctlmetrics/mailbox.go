package ctlmetrics

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
)

// Mailbox implements supervise.MailboxObserver: the middleware counts
// each message posted to an actor of kind and keeps the kind's depth:
// messages posted and not yet handled (the one being handled included;
// protoactor reports a message received once its handler returned). A
// message left in the mailbox of an actor that stopped stays counted.
func (m *Metrics) Mailbox(kind string) actor.MailboxMiddleware {
	return &mailboxStats{depth: m.mailboxDepth.WithLabelValues(kind), posted: m.messages.WithLabelValues(kind)}
}

type mailboxStats struct {
	depth  prometheus.Gauge
	posted prometheus.Counter
}

func (s *mailboxStats) MailboxStarted() {}

func (s *mailboxStats) MessagePosted(any) {
	s.posted.Inc()
	s.depth.Inc()
}

func (s *mailboxStats) MessageReceived(any) { s.depth.Dec() }

func (s *mailboxStats) MailboxEmpty() {}
