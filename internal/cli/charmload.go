package cli

import (
	"bytes"
	"fmt"
	"os"

	"github.com/troupe-dev/troupe/internal/charm"
)

// loadCharm reads a charm directory (packing it) or a .charm archive and
// returns the parsed charm and the archive to upload. verb names the
// command in errors ("deploy", "refresh").
func loadCharm(verb, path string) (*charm.Charm, []byte, error) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("cannot %s %q: %v; give a charm directory or a .charm file", verb, path, err)
	case st.IsDir():
		ch, err := charm.ReadDir(path)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot %s: %w", verb, err)
		}
		var buf bytes.Buffer
		if err := charm.Pack(path, &buf); err != nil {
			return nil, nil, fmt.Errorf("cannot pack charm %q: %w", path, err)
		}
		return ch, buf.Bytes(), nil
	default:
		ch, err := charm.ReadArchive(path)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot %s: %w", verb, err)
		}
		archive, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		return ch, archive, nil
	}
}
