package watchhub_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/watchhub"
)

const root = store.Prefix + "wh/"

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// startHub runs a hub until the test ends (or stop is called) and fails the
// test if Run returns an error.
func startHub(t *testing.T, cfg watchhub.Config) (hub *watchhub.Hub, stop func()) {
	t.Helper()
	hub, err := watchhub.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	stopped := false
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return within 10s of its context being cancelled")
		}
	}
	t.Cleanup(stop)
	return hub, stop
}

func put(t *testing.T, st *store.Store, key, value string) int64 {
	t.Helper()
	rev, err := st.Commit(context.Background(), clientv3.OpPut(key, value))
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func del(t *testing.T, st *store.Store, key string) int64 {
	t.Helper()
	rev, err := st.Commit(context.Background(), clientv3.OpDelete(key))
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func subscribe(t *testing.T, hub *watchhub.Hub, req watchhub.SubscribeRequest) *watchhub.Subscription {
	t.Helper()
	sub, err := hub.Subscribe(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return sub
}

func next(t *testing.T, sub *watchhub.Subscription) (watchhub.Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := sub.Next(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("no event or error within 10s")
	}
	return ev, err
}

// waitHead waits until the hub has published revision rev.
func waitHead(t *testing.T, hub *watchhub.Hub, rev int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for hub.Head() < rev {
		if time.Now().After(deadline) {
			t.Fatalf("hub head is %d, want %d within 10s", hub.Head(), rev)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func hasPrefix(p string) func(string) bool {
	return func(k string) bool { return strings.HasPrefix(k, p) }
}

// change is what a test expects to see: an event without its shared value
// slice.
type change struct {
	Rev     int64
	Key     string
	Value   string
	Deleted bool
}

func (c change) String() string {
	if c.Deleted {
		return fmt.Sprintf("%d del %s", c.Rev, c.Key)
	}
	return fmt.Sprintf("%d put %s=%s", c.Rev, c.Key, c.Value)
}

func toChange(ev watchhub.Event) change {
	return change{Rev: ev.Revision, Key: ev.Key, Value: string(ev.Value), Deleted: ev.Deleted}
}

func diff(got, want []change) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("event %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %d events, want %d", len(got), len(want))
	}
	return ""
}

func TestConfigValidate(t *testing.T) {
	st := &store.Store{}
	tests := []struct {
		name string
		cfg  watchhub.Config
		want string
	}{
		{"ok", watchhub.Config{Store: st}, ""},
		{"no store", watchhub.Config{}, "no store"},
		{"negative buffer", watchhub.Config{Store: st, Buffer: -1}, "buffer -1"},
		{"negative history", watchhub.Config{Store: st, History: -1}, "history -1"},
		{"negative keep", watchhub.Config{Store: st, KeepRevisions: -1}, "keep-revisions -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate: got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestFilteredDelivery(t *testing.T) {
	st := openStore(t)
	hub, _ := startHub(t, watchhub.Config{Store: st})
	a := subscribe(t, hub, watchhub.SubscribeRequest{Filter: hasPrefix(root + "a/")})
	b := subscribe(t, hub, watchhub.SubscribeRequest{Filter: hasPrefix(root + "b/")})
	all := subscribe(t, hub, watchhub.SubscribeRequest{Filter: hasPrefix(root)})
	for _, sub := range []*watchhub.Subscription{a, b, all} {
		ev, err := next(t, sub)
		if err != nil || !ev.IsBaseline() {
			t.Fatalf("first event: got %+v, %v; want the baseline marker", ev, err)
		}
	}

	var wantA, wantB, wantAll []change
	r1 := put(t, st, root+"a/1", "x")
	wantA = append(wantA, change{r1, root + "a/1", "x", false})
	r2 := put(t, st, root+"b/1", "y")
	wantB = append(wantB, change{r2, root + "b/1", "y", false})
	// One transaction touching both: one revision, two events.
	r3, err := st.Commit(context.Background(), clientv3.OpPut(root+"a/2", "p"), clientv3.OpPut(root+"b/2", "q"))
	if err != nil {
		t.Fatal(err)
	}
	wantA = append(wantA, change{r3, root + "a/2", "p", false})
	wantB = append(wantB, change{r3, root + "b/2", "q", false})
	r4 := del(t, st, root+"a/1")
	wantA = append(wantA, change{r4, root + "a/1", "", true})
	put(t, st, store.Prefix+"elsewhere", "z") // selected by no filter
	r5 := put(t, st, root+"b/1", "y2")
	wantB = append(wantB, change{r5, root + "b/1", "y2", false})
	wantAll = []change{wantA[0], wantB[0], wantA[1], wantB[1], wantA[2], wantB[2]}

	for _, tt := range []struct {
		name string
		sub  *watchhub.Subscription
		want []change
	}{{"a", a, wantA}, {"b", b, wantB}, {"all", all, wantAll}} {
		var got []change
		for len(got) < len(tt.want) {
			ev, err := next(t, tt.sub)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			got = append(got, toChange(ev))
		}
		if d := diff(got, tt.want); d != "" {
			t.Errorf("%s: %s", tt.name, d)
		}
	}
	// Nothing more for a: its next event is the following write to a/.
	r6 := put(t, st, root+"a/3", "w")
	if ev, err := next(t, a); err != nil || ev.Revision != r6 {
		t.Fatalf("a after the last write: got %+v, %v; want revision %d", ev, err, r6)
	}
}

func TestBaselineIsNow(t *testing.T) {
	st := openStore(t)
	hub, _ := startHub(t, watchhub.Config{Store: st})
	before := put(t, st, root+"k", "old")
	sub := subscribe(t, hub, watchhub.SubscribeRequest{})
	ev, err := next(t, sub)
	if err != nil || !ev.IsBaseline() || ev.Revision < before {
		t.Fatalf("first event: got %+v, %v; want a baseline at or after revision %d", ev, err, before)
	}
	after := put(t, st, root+"k", "new")
	ev, err = next(t, sub)
	if err != nil || toChange(ev) != (change{after, root + "k", "new", false}) {
		t.Fatalf("second event: got %+v, %v; want the write at revision %d", ev, err, after)
	}
}

// writeMix writes n changes under dir (puts over a few keys, every seventh
// a delete of an existing key) and returns them in order.
func writeMix(t *testing.T, st *store.Store, dir string, n, seed int) []change {
	t.Helper()
	var out []change
	for i := range n {
		key := fmt.Sprintf("%s%02d", dir, (i*7+seed)%23)
		resp, err := st.Client().Get(context.Background(), key, clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		if i%7 == 6 && resp.Count > 0 {
			out = append(out, change{del(t, st, key), key, "", true})
			continue
		}
		v := fmt.Sprintf("v%d-%d", seed, i)
		out = append(out, change{put(t, st, key, v), key, v, false})
	}
	return out
}

func filterChanges(cs []change, keep func(string) bool) []change {
	var out []change
	for _, c := range cs {
		if keep(c.Key) {
			out = append(out, c)
		}
	}
	return out
}

// readUntil reads sub until an event at or after rev, resubscribing from the
// last revision received on ErrSlowSubscriber, as a client does.
func readUntil(t *testing.T, hub *watchhub.Hub, sub *watchhub.Subscription, req watchhub.SubscribeRequest, last, rev int64) []change {
	t.Helper()
	var got []change
	for last < rev {
		ev, err := next(t, sub)
		if errors.Is(err, watchhub.ErrSlowSubscriber) {
			sub.Close()
			req.FromRevision = last
			sub = subscribe(t, hub, req)
			continue
		}
		if err != nil {
			t.Fatalf("after revision %d: %v", last, err)
		}
		if ev.Revision <= last {
			t.Fatalf("event %v after revision %d: out of order or repeated", toChange(ev), last)
		}
		got = append(got, toChange(ev))
		last = ev.Revision
	}
	return got
}

func TestResumeSeesEveryChangeOnce(t *testing.T) {
	tests := []struct {
		name       string
		history    int
		buffer     int
		away       int
		fromMemory bool
	}{
		{"from the hub's memory", 4096, 0, 60, true},
		{"from etcd history", 16, 8, 300, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			hub, _ := startHub(t, watchhub.Config{Store: st, History: tt.history, Buffer: tt.buffer})
			dir := root + "r/"
			// Keys ending in an even digit, plus the noise under another dir.
			filter := func(k string) bool {
				return strings.HasPrefix(k, dir) && (k[len(k)-1]-'0')%2 == 0
			}
			req := watchhub.SubscribeRequest{Filter: filter}
			sub := subscribe(t, hub, req)
			if ev, err := next(t, sub); err != nil || !ev.IsBaseline() {
				t.Fatalf("first event: got %+v, %v; want the baseline marker", ev, err)
			}
			first := filterChanges(writeMix(t, st, dir, 20, 1), filter)
			got := readUntil(t, hub, sub, req, 0, first[len(first)-1].Rev)
			if d := diff(got, first); d != "" {
				t.Fatalf("before disconnecting: %s", d)
			}
			last := got[len(got)-1].Rev
			sub.Close()

			// While the subscriber is away.
			var away []change
			for i := range tt.away / 10 {
				away = append(away, writeMix(t, st, dir, 10, 100+i)...)
				put(t, st, root+"noise/"+fmt.Sprint(i), "n")
			}
			waitHead(t, hub, away[len(away)-1].Rev)
			if inMemory := last >= hub.Oldest(); inMemory != tt.fromMemory {
				t.Fatalf("resume revision %d, hub memory after %d: in memory %v, want %v", last, hub.Oldest(), inMemory, tt.fromMemory)
			}

			// Resume while more changes arrive, so the subscription crosses
			// from history to the live stream under load.
			req.FromRevision = last
			sub = subscribe(t, hub, req)
			more := make(chan []change, 1)
			go func() { more <- writeMix(t, st, dir, 100, 7) }()
			during := <-more
			want := filterChanges(append(away, during...), filter)
			got = readUntil(t, hub, sub, req, last, want[len(want)-1].Rev)
			if d := diff(got, want); d != "" {
				t.Fatalf("after resuming from revision %d: %s", last, d)
			}
		})
	}
}

func TestCompactedResumeRelistsAndConverges(t *testing.T) {
	st := openStore(t)
	hub, _ := startHub(t, watchhub.Config{Store: st, History: 16})
	ctx := context.Background()
	dir := root + "c/"
	req := watchhub.SubscribeRequest{Filter: hasPrefix(dir)}
	sub := subscribe(t, hub, req)
	if _, err := next(t, sub); err != nil {
		t.Fatal(err)
	}
	first := writeMix(t, st, dir, 10, 1)
	got := readUntil(t, hub, sub, req, 0, first[len(first)-1].Rev)
	last := got[len(got)-1].Rev
	sub.Close()

	away := writeMix(t, st, dir, 100, 2)
	compactRev, err := watchhub.CompactOlderThan(ctx, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	if compactRev < away[len(away)-1].Rev {
		t.Fatalf("compacted at %d, want at or after %d", compactRev, away[len(away)-1].Rev)
	}
	waitHead(t, hub, away[len(away)-1].Rev)

	req.FromRevision = last
	sub = subscribe(t, hub, req)
	_, err = next(t, sub)
	var ce *watchhub.CompactedError
	if !errors.Is(err, watchhub.ErrCompacted) || !errors.As(err, &ce) {
		t.Fatalf("resuming from compacted revision %d: got %v, want ErrCompacted", last, err)
	}
	if ce.CompactRevision != compactRev || ce.From != last {
		t.Fatalf("compacted error: got %+v, want from %d, compact revision %d", ce, last, compactRev)
	}
	sub.Close()

	// Relist at a revision, then resubscribe from it while writes go on.
	resp, err := st.Client().Get(ctx, dir, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for _, kv := range resp.Kvs {
		state[string(kv.Key)] = string(kv.Value)
	}
	req.FromRevision = resp.Header.Revision
	sub = subscribe(t, hub, req)
	after := writeMix(t, st, dir, 50, 3)
	for _, c := range readUntil(t, hub, sub, req, req.FromRevision, after[len(after)-1].Rev) {
		if c.Deleted {
			delete(state, c.Key)
		} else {
			state[c.Key] = c.Value
		}
	}
	kvs, _, err := st.List(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, kv := range kvs {
		want[kv.Key] = string(kv.Value)
	}
	if !maps.Equal(state, want) {
		t.Fatalf("after relist and resubscribe: state %v, store %v", state, want)
	}
}

func TestKeepRevisionsCompacts(t *testing.T) {
	st := openStore(t)
	startHub(t, watchhub.Config{Store: st, KeepRevisions: 20})
	first := put(t, st, root+"k/x", "0")
	for i := range 100 {
		put(t, st, root+"k/x", fmt.Sprint(i))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := st.Client().Get(context.Background(), root+"k/x", clientv3.WithRev(first))
		if err != nil && strings.Contains(err.Error(), "compacted") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revision %d still readable 100 revisions later with KeepRevisions 20 (err %v)", first, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCompactOlderThan(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if _, err := watchhub.CompactOlderThan(ctx, st, -1); err == nil {
		t.Fatal("negative revisions: got no error")
	}
	if rev, err := watchhub.CompactOlderThan(ctx, st, 1_000_000); err != nil || rev != 0 {
		t.Fatalf("keeping more than exists: got %d, %v; want 0, nil", rev, err)
	}
	for i := range 10 {
		put(t, st, root+"x", fmt.Sprint(i))
	}
	rev, err := watchhub.CompactOlderThan(ctx, st, 3)
	if err != nil || rev == 0 {
		t.Fatalf("compact: got %d, %v", rev, err)
	}
	if again, err := watchhub.CompactOlderThan(ctx, st, 3); err != nil || again != 0 {
		t.Fatalf("compacting at the same revision again: got %d, %v; want 0, nil", again, err)
	}
	if _, err := st.Client().Get(ctx, root+"x", clientv3.WithRev(rev-1)); err == nil {
		t.Fatalf("revision %d still readable after compacting at %d", rev-1, rev)
	}
}

func TestSlowSubscriberDoesNotBlockOthers(t *testing.T) {
	st := openStore(t)
	hub, _ := startHub(t, watchhub.Config{Store: st, Buffer: 8})
	dir := root + "s/"
	req := watchhub.SubscribeRequest{Filter: hasPrefix(dir)}
	slow := subscribe(t, hub, req)
	fast := subscribe(t, hub, req)
	if _, err := next(t, fast); err != nil {
		t.Fatal(err)
	}
	// The fast one reads each change before the next is written, while
	// the slow one reads nothing.
	var want []change
	for i := range 50 {
		c := change{Key: fmt.Sprintf("%s%d", dir, i%5), Value: fmt.Sprint(i)}
		if i%7 == 6 {
			c = change{Key: want[i-1].Key, Deleted: true}
			c.Rev = del(t, st, c.Key)
		} else {
			c.Rev = put(t, st, c.Key, c.Value)
		}
		want = append(want, c)
		ev, err := next(t, fast)
		if err != nil || toChange(ev) != c {
			t.Fatalf("fast subscriber, change %d: got %+v, %v; want %v", i, ev, err, c)
		}
	}

	// The slow one gets what fitted in its buffer, then the overflow.
	var got []change
	last := int64(0)
	for {
		ev, err := next(t, slow)
		if errors.Is(err, watchhub.ErrSlowSubscriber) {
			break
		}
		if err != nil {
			t.Fatalf("slow subscriber: %v", err)
		}
		if !ev.IsBaseline() {
			got = append(got, toChange(ev))
		}
		last = ev.Revision
	}
	if len(got) == 0 || len(got) > 8 {
		t.Fatalf("slow subscriber got %d events before overflowing, want 1 to 8", len(got))
	}
	// It resumes from its last revision and sees the rest exactly once.
	req.FromRevision = last
	slow = subscribe(t, hub, req)
	got = append(got, readUntil(t, hub, slow, req, last, want[len(want)-1].Rev)...)
	if d := diff(got, want); d != "" {
		t.Fatalf("slow subscriber after resuming: %s", d)
	}

	// A transaction bigger than the buffer still reaches a reader that keeps up.
	var ops []clientv3.Op
	for i := range 20 {
		ops = append(ops, clientv3.OpPut(fmt.Sprintf("%sbig/%02d", dir, i), "v"))
	}
	rev, err := st.Commit(context.Background(), ops...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		ev, err := next(t, fast)
		if err != nil || ev.Revision != rev {
			t.Fatalf("event %d of a 20-key transaction: got %+v, %v", i, ev, err)
		}
	}
}

func TestCloseAndContextEndSubscription(t *testing.T) {
	st := openStore(t)
	hub, _ := startHub(t, watchhub.Config{Store: st})
	sub := subscribe(t, hub, watchhub.SubscribeRequest{})
	sub.Close()
	sub.Close()
	if _, err := next(t, sub); !errors.Is(err, watchhub.ErrClosed) {
		t.Fatalf("after Close: got %v, want ErrClosed", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	sub, err := hub.Subscribe(ctx, watchhub.SubscribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for {
		_, err := next(t, sub)
		if errors.Is(err, watchhub.ErrClosed) {
			break
		}
		if err != nil {
			t.Fatalf("after the subscription's context ended: got %v, want ErrClosed", err)
		}
	}
}

func TestStopEndsSubscriptionsAndLeaksNothing(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	first := put(t, st, root+"l/warm", "x")
	for i := range 100 {
		put(t, st, root+"l/"+fmt.Sprint(i), "v")
	}
	before := runtime.NumGoroutine()

	hub, stop := startHub(t, watchhub.Config{Store: st, History: 8, Buffer: 4})
	live := subscribe(t, hub, watchhub.SubscribeRequest{})
	// Reads history from etcd and stays blocked on its full buffer.
	stuck := subscribe(t, hub, watchhub.SubscribeRequest{FromRevision: first})
	// Ended by its context.
	sctx, cancel := context.WithCancel(ctx)
	if _, err := hub.Subscribe(sctx, watchhub.SubscribeRequest{FromRevision: first}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := next(t, stuck); err != nil {
		t.Fatal(err)
	}
	put(t, st, root+"l/after", "v")

	stop()
	for name, sub := range map[string]*watchhub.Subscription{"live": live, "history": stuck} {
		for {
			_, err := next(t, sub)
			if errors.Is(err, watchhub.ErrStopped) {
				break
			}
			if err != nil {
				t.Fatalf("%s subscription after stop: got %v, want ErrStopped", name, err)
			}
		}
	}
	if _, err := hub.Subscribe(ctx, watchhub.SubscribeRequest{}); !errors.Is(err, watchhub.ErrStopped) {
		t.Fatalf("Subscribe after stop: got %v, want ErrStopped", err)
	}
	if err := hub.Run(ctx); err == nil {
		t.Fatal("second Run: got no error")
	}

	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines after stop, %d before the hub ran:\n%s", runtime.NumGoroutine(), before, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The hub may not have seen a revision a client already has (a write the
// client made itself, or a relist read straight from etcd): subscribing
// from it must not repeat it. Repeated because the hub lags only sometimes.
func TestSubscribeAheadOfHubSkipsWhatTheClientHas(t *testing.T) {
	st := openStore(t)
	hub, _ := startHub(t, watchhub.Config{Store: st})
	for i := range 20 {
		key := fmt.Sprintf("%sahead/%d", root, i)
		seen := put(t, st, key, "seen")
		sub := subscribe(t, hub, watchhub.SubscribeRequest{Filter: hasPrefix(key), FromRevision: seen})
		fresh := put(t, st, key, "fresh")
		ev, err := next(t, sub)
		if err != nil || toChange(ev) != (change{fresh, key, "fresh", false}) {
			t.Fatalf("round %d: got %+v, %v; want only the write at revision %d", i, ev, err, fresh)
		}
		sub.Close()
	}
}
