package opstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/troupe-dev/troupe/internal/atomicfile"
	"github.com/troupe-dev/troupe/workers/uniter/resolver"
)

// formatVersion is the version of the file format written by Save.
const formatVersion = 1

type file struct {
	Version int            `json:"version"`
	State   resolver.State `json:"state"`
}

// Store is a durable store of one unit's resolver.State. It is safe for
// concurrent use, though the uniter uses it from one goroutine.
type Store struct {
	path string

	mu   sync.Mutex
	last []byte // guarded by mu; the encoding last saved or loaded
}

// Open returns a Store for the state file at path. The file need not
// exist; its directory must.
func Open(path string) (*Store, error) {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot open uniter state %q: %w", path, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("cannot open uniter state %q: %q is not a directory", path, dir)
	}
	return &Store{path: path}, nil
}

// Path returns the state file's path.
func (st *Store) Path() string { return st.path }

// Load returns the stored state. found is false, with a zero State and a
// nil error, when no state was ever saved. A corrupt or invalid file is an
// error; the caller must not start the uniter over it.
func (st *Store) Load() (s resolver.State, found bool, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	data, err := os.ReadFile(st.path)
	if errors.Is(err, fs.ErrNotExist) {
		return resolver.State{}, false, nil
	}
	if err != nil {
		return resolver.State{}, false, fmt.Errorf("cannot load uniter state: %w", err)
	}
	corrupt := func(err error) error {
		return fmt.Errorf("cannot load uniter state: file %q is corrupt: %w; "+
			"restore it from a backup, or remove it only if the unit should be redeployed from scratch (install runs again)",
			st.path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return resolver.State{}, false, corrupt(err)
	}
	if dec.More() {
		return resolver.State{}, false, corrupt(errors.New("trailing data after the state"))
	}
	if f.Version != formatVersion {
		return resolver.State{}, false, corrupt(fmt.Errorf("unsupported format version %d (want %d)", f.Version, formatVersion))
	}
	if err := f.State.Validate(); err != nil {
		return resolver.State{}, false, corrupt(err)
	}
	st.last = data
	return f.State, true, nil
}

// Save durably replaces the stored state with s. It returns once the new
// state is on stable storage, or does nothing when s encodes the same as
// the last state saved or loaded. s must be valid.
func (st *Store) Save(s resolver.State) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("cannot save uniter state: %w", err)
	}
	data, err := json.MarshalIndent(file{Version: formatVersion, State: s}, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot save uniter state: %w", err)
	}
	data = append(data, '\n')
	st.mu.Lock()
	defer st.mu.Unlock()
	if bytes.Equal(data, st.last) {
		return nil
	}
	if err := atomicfile.Write(st.path, data, 0o600); err != nil {
		return fmt.Errorf("cannot save uniter state: %w", err)
	}
	st.last = data
	return nil
}
