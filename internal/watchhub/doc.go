// Package watchhub is the controller's watch hub: one etcd watch on a key
// prefix, fanned out to many subscribers (the API server streams it to
// agents and the CLI), each filtered by key and resumable from a revision.
//
// # The problem
//
// Every agent and CLI session wants to hear about changes to a few
// entities. One etcd watch each would multiply the work etcd does by the
// number of clients, and a client that reconnects must neither miss a
// change nor see one twice. And etcd's history must be compacted, or it
// grows without bound, so "resume from revision R" sometimes cannot be
// honoured: the client must then relist.
//
// # The model
//
// The Hub runs a single watch on Config.Prefix (Run) and keeps the most
// recent Config.History events in memory. Subscribe registers a
// subscription at a revision R and delivers, through Subscription.Next,
// every change with a revision greater than R whose key the filter
// selects, in revision order, each once:
//
//   - R = 0 means "from now": the first event is a baseline marker
//     (Event.IsBaseline) carrying the store's current revision.
//   - R within the hub's memory: the remembered events after R are queued,
//     then live events follow.
//   - R older than the hub's memory: the subscription reads the history
//     from etcd with its own watch starting at R+1, and joins the live
//     stream as soon as the hub's memory covers every revision after the
//     last one it delivered. Reading history applies backpressure (the
//     history watch waits for the reader), it never overflows.
//   - R compacted away: the subscription ends with a *CompactedError
//     (errors.Is ErrCompacted), carrying etcd's compact revision. The
//     client relists (a Get at some revision L) and subscribes from L.
//
// Changes committed by one transaction share a revision; the hub moves
// them as a unit, so "resume after the last revision received" is always
// exact.
//
// A live subscriber has a bounded buffer (Config.Buffer events). The hub
// never waits for a subscriber: when a revision's events do not fit, that
// subscription ends with ErrSlowSubscriber after the events already queued,
// and the client resumes from the last revision it received. Other
// subscribers are unaffected.
//
// Compaction: the store compacts periodically on its own
// (store.Config.CompactionRetention). Config.KeepRevisions adds a
// revision-count policy applied by the hub as it sees the store advance,
// and CompactOlderThan compacts on demand (tests use it to force
// ErrCompacted).
//
// # Usage
//
//	hub, err := watchhub.New(watchhub.Config{Store: st, Logger: log})
//	go func() { errc <- hub.Run(ctx) }()   // the owner waits for Run
//	sub, err := hub.Subscribe(ctx, watchhub.SubscribeRequest{
//		Filter:       func(k string) bool { return strings.HasPrefix(k, unitKey) },
//		FromRevision: lastSeen,
//	})
//	for {
//		ev, err := sub.Next(ctx)
//		if errors.Is(err, watchhub.ErrCompacted) { /* relist, resubscribe */ }
//		if err != nil { /* resubscribe from lastSeen */ }
//		lastSeen = ev.Revision
//	}
//
// # Invariants
//
//   - Every goroutine the hub starts (one per subscription reading
//     history) is owned by Run: when Run returns, they have all exited
//     and every subscription has ended with ErrStopped.
//   - The hub never blocks on a subscriber; Next never blocks the hub.
//   - Events are level-triggered hints in the architecture's sense: a
//     client that relists after ErrCompacted converges to the store's
//     state.
//
// # Who imports it
//
// The controller assembly and its API server. Agents never do: they see the
// stream only through the API.
//
// # What it never does
//
// It never writes keys, never reorders or merges events, never drops an
// event silently (a subscription that cannot be served completely ends
// with an error saying how to resume), and never compacts unless asked to
// by KeepRevisions or CompactOlderThan.
//
// # Testing
//
// The tests run a real embedded etcd (store.Open with Fast) and check
// filtering, exact-once resumption across the memory/history boundary,
// relisting after compaction, slow-subscriber isolation and that no
// goroutine outlives Run.
package watchhub
