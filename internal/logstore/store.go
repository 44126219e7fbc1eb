package logstore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
)

// ErrClosed is returned by a closed store.
var ErrClosed = errors.New("logstore: closed")

const currentFile = "current.jsonl"

// Config configures a Store.
type Config struct {
	// Dir is the root directory; each model gets a subdirectory.
	Dir string
	// MaxFileSize is the size at which a model's current file is rotated;
	// zero means 4 MiB.
	MaxFileSize int64
	// MaxFiles is how many rotated files a model keeps; zero means 4.
	MaxFiles int
	// Window is how many recent records per model are kept in memory for
	// tailers; zero means 4096.
	Window int
	// NoSync skips the fsync after each Append (tests).
	NoSync bool
}

// Store is the controller's log store. Its methods are safe for
// concurrent use.
type Store struct {
	cfg Config

	mu     sync.Mutex
	models map[string]*modelLog // guarded by mu
	closed chan struct{}        // closed by Close
	done   bool                 // guarded by mu
}

// modelLog is one model's open log; guarded by Store.mu.
type modelLog struct {
	dir     string
	f       *os.File
	size    int64
	seq     uint64   // last sequence number written
	window  []Record // the most recent Window..2×Window records, oldest first
	changed chan struct{}
}

// Open opens (creating) the store in cfg.Dir.
func Open(cfg Config) (*Store, error) {
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = 4 << 20
	}
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = 4
	}
	if cfg.Window <= 0 {
		cfg.Window = 4096
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create log store: %w", err)
	}
	return &Store{cfg: cfg, models: map[string]*modelLog{}, closed: make(chan struct{})}, nil
}

// Close closes every file and wakes every waiter; later calls fail with
// ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil
	}
	s.done = true
	close(s.closed)
	var errs []error
	for _, m := range s.models {
		errs = append(errs, m.f.Close())
		close(m.changed)
	}
	return errors.Join(errs...)
}

// Closed is closed when the store is.
func (s *Store) Closed() <-chan struct{} { return s.closed }

// modelLocked returns the open log of a model, opening it (and recovering
// its sequence) on first use.
func (s *Store) modelLocked(model string) (*modelLog, error) {
	if s.done {
		return nil, ErrClosed
	}
	if m, ok := s.models[model]; ok {
		return m, nil
	}
	if model == "" || filepath.Base(model) != model || model == "." || model == ".." {
		return nil, fmt.Errorf("logstore: invalid model %q", model)
	}
	dir := filepath.Join(s.cfg.Dir, model)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create model log dir: %w", err)
	}
	m := &modelLog{dir: dir, changed: make(chan struct{})}
	// Recover the last sequence and the window from the newest files.
	files, err := modelFiles(dir)
	if err != nil {
		return nil, err
	}
	for i := len(files) - 1; i >= 0 && len(m.window) < s.cfg.Window; i-- {
		recs, err := readFile(files[i])
		if err != nil {
			return nil, err
		}
		if m.seq == 0 && len(recs) > 0 {
			m.seq = recs[len(recs)-1].Seq
		}
		m.window = append(recs, m.window...)
	}
	if n := len(m.window) - s.cfg.Window; n > 0 {
		m.window = m.window[n:]
	}
	f, err := os.OpenFile(filepath.Join(dir, currentFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open model log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	m.f, m.size = f, st.Size()
	s.models[model] = m
	return m, nil
}

// Append writes records to the model's log, giving each the next
// sequence number and the model, and wakes the model's waiters. It returns
// the records as stored.
func (s *Store) Append(model string, recs []Record) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.modelLocked(model)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, nil
	}
	out := make([]Record, len(recs))
	var buf bytes.Buffer
	for i, r := range recs {
		r.Seq, r.Model = m.seq+uint64(i)+1, model
		out[i] = r
		line, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("cannot encode log record: %w", err)
		}
		if m.size > 0 && m.size+int64(buf.Len()+len(line)+1) > s.cfg.MaxFileSize {
			if err := s.flushLocked(m, &buf); err != nil {
				return nil, err
			}
			if err := s.rotateLocked(m, r.Seq); err != nil {
				return nil, err
			}
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := s.flushLocked(m, &buf); err != nil {
		return nil, err
	}
	m.seq += uint64(len(recs))
	// The window may hold up to twice Window records, so trimming it
	// (a copy) happens once per Window appended records.
	m.window = append(m.window, out...)
	if len(m.window) > 2*s.cfg.Window {
		m.window = append(make([]Record, 0, 2*s.cfg.Window), m.window[len(m.window)-s.cfg.Window:]...)
	}
	close(m.changed)
	m.changed = make(chan struct{})
	return out, nil
}

func (s *Store) flushLocked(m *modelLog, buf *bytes.Buffer) error {
	if buf.Len() == 0 {
		return nil
	}
	n, err := m.f.Write(buf.Bytes())
	m.size += int64(n)
	buf.Reset()
	if err != nil {
		return fmt.Errorf("cannot write model log: %w", err)
	}
	if !s.cfg.NoSync {
		if err := m.f.Sync(); err != nil {
			return fmt.Errorf("cannot sync model log: %w", err)
		}
	}
	return nil
}

// rotateLocked renames the current file after the first sequence it does
// not hold (nextSeq) and prunes old files.
func (s *Store) rotateLocked(m *modelLog, nextSeq uint64) error {
	if err := m.f.Close(); err != nil {
		return fmt.Errorf("cannot close model log: %w", err)
	}
	// Rotated files are named by the sequence they end before, so names
	// sort in log order.
	name := filepath.Join(m.dir, fmt.Sprintf("%020d.jsonl", nextSeq))
	if err := os.Rename(filepath.Join(m.dir, currentFile), name); err != nil {
		return fmt.Errorf("cannot rotate model log: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(m.dir, currentFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open model log: %w", err)
	}
	m.f, m.size = f, 0
	files, err := modelFiles(m.dir)
	if err != nil {
		return err
	}
	rotated := files[:len(files)-1]
	for len(rotated) > s.cfg.MaxFiles {
		if err := os.Remove(rotated[0]); err != nil {
			return fmt.Errorf("cannot prune model log: %w", err)
		}
		rotated = rotated[1:]
	}
	return nil
}

var rotatedName = regexp.MustCompile(`^[0-9]{20}\.jsonl$`)

// modelFiles lists a model's files oldest first, current.jsonl last (when
// it exists).
func modelFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot list model log: %w", err)
	}
	var names []string
	cur := false
	for _, e := range ents {
		switch {
		case e.Name() == currentFile:
			cur = true
		case rotatedName.MatchString(e.Name()):
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if cur {
		names = append(names, currentFile)
	}
	for i, n := range names {
		names[i] = filepath.Join(dir, n)
	}
	return names, nil
}

// readFile reads a JSON-lines file; a torn last line (a crash mid-write)
// is ignored.
func readFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read model log: %w", err)
	}
	defer f.Close()
	var out []Record
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return out, nil // no newline: torn or empty
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read model log: %w", err)
		}
		var rec Record
		if json.Unmarshal(line, &rec) == nil {
			out = append(out, rec)
		}
	}
}

// Changed returns a channel closed by the model's next Append or by
// Close. Take it before calling After so no record is missed.
func (s *Store) Changed(model string) (<-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.modelLocked(model)
	if err != nil {
		return nil, err
	}
	return m.changed, nil
}

// After returns the model's records with Seq > after that match f, oldest
// first, at most max of them (max <= 0: all), and the position to read on
// from: the last returned record's Seq when max were returned, else the
// model's last sequence number at the call. Positions still in the memory
// window are served from it; older ones from the files (records pruned by
// rotation are gone).
func (s *Store) After(model string, after uint64, f Filter, max int) ([]Record, uint64, error) {
	s.mu.Lock()
	m, err := s.modelLocked(model)
	if err != nil {
		s.mu.Unlock()
		return nil, 0, err
	}
	seq := m.seq
	if len(m.window) > 0 && m.window[0].Seq <= after+1 || seq <= after {
		defer s.mu.Unlock()
		return take(m.window, after, seq, f, max)
	}
	dir := m.dir
	s.mu.Unlock()
	files, err := modelFiles(dir)
	if err != nil {
		return nil, 0, err
	}
	var out []Record
	for _, p := range files {
		recs, err := readFile(p)
		if err != nil {
			return nil, 0, err
		}
		more, next, _ := take(recs, after, seq, f, max-len(out))
		out = append(out, more...)
		if max > 0 && len(out) >= max {
			return out, next, nil
		}
	}
	return out, seq, nil
}

// take picks the records in (after, upto] that match f, at most max.
func take(recs []Record, after, upto uint64, f Filter, max int) ([]Record, uint64, error) {
	var out []Record
	for _, r := range recs {
		if r.Seq <= after || r.Seq > upto || !f.Match(r) {
			continue
		}
		out = append(out, r)
		if max > 0 && len(out) == max {
			return out, r.Seq, nil
		}
	}
	return out, upto, nil
}

// Last returns the last n records of the model that match f, oldest
// first, and the model's last sequence number (the position to tail
// from). n <= 0 returns no records.
func (s *Store) Last(model string, n int, f Filter) ([]Record, uint64, error) {
	s.mu.Lock()
	m, err := s.modelLocked(model)
	if err != nil {
		s.mu.Unlock()
		return nil, 0, err
	}
	seq, dir := m.seq, m.dir
	if n <= 0 {
		s.mu.Unlock()
		return nil, seq, nil
	}
	// The window usually has enough matches; otherwise scan the files.
	var ring []Record
	for i := len(m.window) - 1; i >= 0 && len(ring) < n; i-- {
		if f.Match(m.window[i]) {
			ring = append(ring, m.window[i])
		}
	}
	full := len(m.window) == 0 || m.window[0].Seq == 1
	s.mu.Unlock()
	if len(ring) < n && !full {
		files, err := modelFiles(dir)
		if err != nil {
			return nil, 0, err
		}
		ring = ring[:0]
		for i := len(files) - 1; i >= 0 && len(ring) < n; i-- {
			recs, err := readFile(files[i])
			if err != nil {
				return nil, 0, err
			}
			for j := len(recs) - 1; j >= 0 && len(ring) < n; j-- {
				if recs[j].Seq <= seq && f.Match(recs[j]) {
					ring = append(ring, recs[j])
				}
			}
		}
	}
	for i, j := 0, len(ring)-1; i < j; i, j = i+1, j-1 {
		ring[i], ring[j] = ring[j], ring[i]
	}
	return ring, seq, nil
}
