package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
)

// ErrFenced is returned by Commit when the store's epoch has moved past the
// epoch this Store was opened with: another controller owns the store now.
var ErrFenced = errors.New("store: controller epoch is stale; another controller owns the store")

// ErrNotFound is returned by Get when the key does not exist.
var ErrNotFound = errors.New("store: not found")

// Prefix is the root of every key Troupe writes.
const Prefix = "/troupe/"

const epochKey = Prefix + "epoch"

// Raft log bounds of the embedded member (see Open).
const (
	SnapshotCount          = 1000
	SnapshotCatchUpEntries = 500
)

// Config describes how to open the store.
type Config struct {
	// Dir is the data directory of the embedded etcd member. Required.
	Dir string
	// Name is the etcd member name. Zero means "troupe".
	Name string
	// Fast shortens etcd's raft timers (10 ms tick, 50 ms election). Tests
	// and a single-node controller use it; it has no effect on durability.
	Fast bool
	// CompactionRetention is how many hours of history etcd keeps before
	// compacting old revisions. Zero means 1 hour.
	CompactionRetention int
	// Observer, if not nil, is told the duration and outcome of every
	// Commit, Get and List (metrics).
	Observer Observer
}

// Observer receives the timing of store requests. op is "commit", "get"
// or "list"; err is the request's error (ErrNotFound, ErrConflict and
// ErrFenced included). It is called on the caller's goroutine and must
// not block.
type Observer interface {
	ObserveStore(op string, took time.Duration, err error)
}

// Store is an open embedded etcd with a fenced write path. Its methods are
// safe for concurrent use.
type Store struct {
	etcd   *embed.Etcd
	client *clientv3.Client
	epoch  int64
	obs    Observer

	closeOnce *sync.Once
}

// ports are persisted so a restarted member keeps the peer URL recorded in
// its own membership data.
type ports struct {
	Client int `json:"client"`
	Peer   int `json:"peer"`
}

// Open starts the embedded etcd member in cfg.Dir, waits until it serves,
// and takes a new epoch. The returned Store must be closed.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("store: no data directory given")
	}
	if cfg.Name == "" {
		cfg.Name = "troupe"
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create store directory: %w", err)
	}
	p, err := loadPorts(cfg.Dir)
	if err != nil {
		return nil, err
	}
	ec := embed.NewConfig()
	ec.Name = cfg.Name
	ec.Dir = filepath.Join(cfg.Dir, "etcd")
	tlsInfo, err := lockedListeners(filepath.Join(cfg.Dir, "listener-tls"))
	if err != nil {
		return nil, err
	}
	ec.ClientTLSInfo, ec.PeerTLSInfo = tlsInfo, tlsInfo
	peer := url.URL{Scheme: "https", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Peer))}
	client := url.URL{Scheme: "https", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Client))}
	ec.ListenPeerUrls = []url.URL{peer}
	ec.AdvertisePeerUrls = []url.URL{peer}
	ec.ListenClientUrls = []url.URL{client}
	ec.AdvertiseClientUrls = []url.URL{client}
	ec.InitialCluster = ec.InitialClusterFromName(cfg.Name)
	ec.LogLevel = "error"
	ec.LogOutputs = []string{filepath.Join(cfg.Dir, "etcd.log")}
	ec.EnableGRPCGateway = false
	// One deploy or add-unit is one transaction of two documents per unit
	// (unit and machine): etcd's default of 128 operations would refuse
	// `-n 64` and more.
	ec.MaxTxnOps = MaxTxnOps
	ec.MaxRequestBytes = 8 << 20
	// etcd keeps every raft entry since its last snapshot in memory,
	// plus SnapshotCatchUpEntries more for slow followers: with the
	// defaults (10 000 + 5 000) and a unit document in most entries, that
	// log alone was tens of MB — the larger part of the controller's
	// memory per unit. A snapshot of a single member is cheap (membership
	// only; the data is already in the backend), so take one every 1 000
	// commits and keep 500 for a follower to catch up from; one further
	// behind gets the snapshot.
	ec.SnapshotCount = SnapshotCount
	ec.SnapshotCatchUpEntries = SnapshotCatchUpEntries
	ec.AutoCompactionMode = "periodic"
	retention := cfg.CompactionRetention
	if retention <= 0 {
		retention = 1
	}
	ec.AutoCompactionRetention = strconv.Itoa(retention) + "h"
	if cfg.Fast {
		ec.TickMs = 10
		ec.ElectionMs = 50
	}
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("cannot start embedded etcd in %q: %w", cfg.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed while starting: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("embedded etcd did not become ready: %w", ctx.Err())
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, errors.New("embedded etcd did not become ready within 60s; see etcd.log in the data directory")
	}
	s := &Store{etcd: e, client: v3client.New(e.Server), obs: cfg.Observer, closeOnce: new(sync.Once)}
	if err := s.takeEpoch(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func loadPorts(dir string) (ports, error) {
	path := filepath.Join(dir, "ports.json")
	var p ports
	data, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(data, &p); err != nil {
			return p, fmt.Errorf("cannot read %s: %w", path, err)
		}
		return p, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return p, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if p.Client, err = freePort(); err != nil {
		return p, err
	}
	if p.Peer, err = freePort(); err != nil {
		return p, err
	}
	data, _ = json.Marshal(p)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return p, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return p, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cannot find a free port for etcd: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// takeEpoch increments the epoch key with a compare-and-swap and records
// the new value as this Store's epoch.
func (s *Store) takeEpoch(ctx context.Context) error {
	for {
		resp, err := s.client.Get(ctx, epochKey)
		if err != nil {
			return fmt.Errorf("cannot read controller epoch: %w", err)
		}
		var cur int64
		var modRev int64
		if len(resp.Kvs) > 0 {
			cur, err = strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64)
			if err != nil {
				return fmt.Errorf("controller epoch is corrupt (%q): %w", resp.Kvs[0].Value, err)
			}
			modRev = resp.Kvs[0].ModRevision
		}
		next := cur + 1
		tr, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(epochKey), "=", modRev)).
			Then(clientv3.OpPut(epochKey, strconv.FormatInt(next, 10))).
			Commit()
		if err != nil {
			return fmt.Errorf("cannot take controller epoch: %w", err)
		}
		if tr.Succeeded {
			s.epoch = next
			return nil
		}
	}
}

// Epoch is the epoch this Store writes under.
func (s *Store) Epoch() int64 { return s.epoch }

// Client is the raw etcd client, for reads and watches. Writes must go
// through Commit.
func (s *Store) Client() *clientv3.Client { return s.client }

// Close stops the embedded etcd member. It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.client != nil {
			s.client.Close()
		}
		if s.etcd != nil {
			s.etcd.Close()
		}
	})
	return nil
}

// MaxTxnOps bounds the operations of one Commit.
const MaxTxnOps = 16384

// Op is one write in a Commit.
type Op = clientv3.Op

// Put returns an Op storing v as JSON under key.
func Put(key string, v any) (Op, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return Op{}, fmt.Errorf("cannot encode %s: %w", key, err)
	}
	return clientv3.OpPut(key, string(data)), nil
}

// Delete returns an Op deleting key.
func Delete(key string) Op { return clientv3.OpDelete(key) }

// Cond is an extra precondition of a Commit.
type Cond = clientv3.Cmp

// Absent is a Cond that holds when key does not exist.
func Absent(key string) Cond { return clientv3.Compare(clientv3.CreateRevision(key), "=", 0) }

// Unchanged is a Cond that holds when key was not written after revision
// rev (the revision a Get returned).
func Unchanged(key string, rev int64) Cond {
	return clientv3.Compare(clientv3.ModRevision(key), "<", rev+1)
}

// ErrConflict is returned by CommitIf when an extra condition failed while
// the epoch still held.
var ErrConflict = errors.New("store: write conflicts with current state")

// Commit applies ops atomically, fenced on the epoch. It returns the
// revision of the write.
func (s *Store) Commit(ctx context.Context, ops ...Op) (int64, error) {
	return s.CommitIf(ctx, nil, ops...)
}

// CommitIf is Commit with extra conditions. When the epoch holds but a
// condition fails it returns ErrConflict; when the epoch moved, ErrFenced.
func (s *Store) CommitIf(ctx context.Context, conds []Cond, ops ...Op) (rev int64, err error) {
	defer s.observe("commit", time.Now(), &err)
	fence := clientv3.Compare(clientv3.Value(epochKey), "=", strconv.FormatInt(s.epoch, 10))
	all := append([]Cond{fence}, conds...)
	resp, err := s.client.Txn(ctx).If(all...).Then(ops...).
		Else(clientv3.OpGet(epochKey)).Commit()
	if err != nil {
		return 0, fmt.Errorf("cannot commit to store: %w", err)
	}
	if resp.Succeeded {
		return resp.Header.Revision, nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 1 && string(kvs[0].Value) == strconv.FormatInt(s.epoch, 10) {
		return 0, ErrConflict
	}
	return 0, ErrFenced
}

// Get decodes the JSON document at key into v. It returns ErrNotFound when
// the key does not exist, and the revision of the read.
func (s *Store) Get(ctx context.Context, key string, v any) (rev int64, err error) {
	defer s.observe("get", time.Now(), &err)
	return s.get(ctx, key, v)
}

// GetLocal is Get served from this member's applied state without a raft
// round (a serializable read): it never waits behind in-flight commits,
// but on a follower of an HA cluster it may miss the latest writes. For
// documents that rarely change and whose staleness the caller can detect
// (a model's name → UUID): on ErrNotFound the caller reads again with
// Get.
func (s *Store) GetLocal(ctx context.Context, key string, v any) (rev int64, err error) {
	defer s.observe("get-local", time.Now(), &err)
	return s.get(ctx, key, v, clientv3.WithSerializable())
}

func (s *Store) get(ctx context.Context, key string, v any, opts ...clientv3.OpOption) (int64, error) {
	resp, err := s.client.Get(ctx, key, opts...)
	if err != nil {
		return 0, fmt.Errorf("cannot read %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return resp.Header.Revision, ErrNotFound
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, v); err != nil {
		return 0, fmt.Errorf("cannot decode %s: %w", key, err)
	}
	return resp.Header.Revision, nil
}

// KV is one raw key/value pair of a List.
type KV struct {
	Key   string
	Value []byte
}

// List returns every key under prefix, sorted by key, and the revision of
// the read.
func (s *Store) List(ctx context.Context, prefix string) (kvs []KV, rev int64, err error) {
	defer s.observe("list", time.Now(), &err)
	resp, err := s.client.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, 0, fmt.Errorf("cannot list %s: %w", prefix, err)
	}
	out := make([]KV, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, KV{Key: string(kv.Key), Value: kv.Value})
	}
	return out, resp.Header.Revision, nil
}

// DeletePrefix returns an Op deleting every key under prefix.
func DeletePrefix(prefix string) Op { return clientv3.OpDelete(prefix, clientv3.WithPrefix()) }

// Decode decodes the JSON document of kv into v.
func Decode(kv KV, v any) error {
	if err := json.Unmarshal(kv.Value, v); err != nil {
		return fmt.Errorf("cannot decode %s: %w", kv.Key, err)
	}
	return nil
}

// observe reports one request to the observer, if any.
func (s *Store) observe(op string, start time.Time, err *error) {
	if s.obs != nil {
		s.obs.ObserveStore(op, time.Since(start), *err)
	}
}
