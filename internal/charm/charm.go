package charm

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxMetadataFile bounds how much of any one metadata file is read.
const maxMetadataFile = 16 << 20

// Charm is a charm read from a directory or archive.
type Charm struct {
	Meta    *Meta    // never nil
	Config  *Config  // never nil: no config.yaml gives no options
	Actions *Actions // never nil: no actions.yaml gives no actions
	// Manifest is nil when the charm has neither manifest.yaml nor
	// bases in a unified charmcraft.yaml.
	Manifest *Manifest
	// Version is the trimmed content of the file "version", or "".
	Version string
	// Revision is the content of the file "revision", or 0.
	Revision int
}

// Format is the charm's format: V2 when its metadata uses v2 keys or its
// manifest declares bases, else V1.
func (c *Charm) Format() Format {
	if c.Meta.Format == FormatV2 || (c.Manifest != nil && len(c.Manifest.Bases) > 0) {
		return FormatV2
	}
	return FormatV1
}

// ReadDir reads the charm in dir. metadata.yaml is required, except that a
// source tree whose unified charmcraft.yaml declares the metadata (name,
// summary, provides, config, actions, ...) is read from that file, as
// charmcraft pack would render it. Separate config.yaml, actions.yaml and
// manifest.yaml files fill what charmcraft.yaml leaves out.
func ReadDir(dir string) (*Charm, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read charm dir %q: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("cannot read charm dir %q: not a directory (for a .charm file, read it as an archive)", dir)
	}
	c, err := readDir(dir)
	if errors.Is(err, errNoMetadata) {
		return nil, fmt.Errorf("charm dir %q has no metadata.yaml: point at a charm directory, or run \"charmcraft pack\" and deploy the .charm file", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read charm dir %q: %w", dir, err)
	}
	return c, nil
}

// errNoMetadata is readDir's report that neither metadata.yaml nor a
// unified charmcraft.yaml exists; callers phrase it for their input.
var errNoMetadata = errors.New("no metadata.yaml")

func readDir(dir string) (*Charm, error) {
	var cc *charmcraftParts
	ccData, hasCC, err := readOptional(dir, "charmcraft.yaml")
	if err != nil {
		return nil, err
	}
	metaData, hasMeta, err := readOptional(dir, "metadata.yaml")
	if err != nil {
		return nil, err
	}
	c := &Charm{}
	switch {
	case hasMeta:
		if c.Meta, err = ParseMeta(metaData); err != nil {
			return nil, fmt.Errorf("metadata.yaml: %w", err)
		}
		// With metadata.yaml present the charm is packed or hand-made;
		// charmcraft.yaml is consulted for bases only, and only when
		// manifest.yaml is missing (below).
	case hasCC:
		if cc, err = parseCharmcraft(ccData); err != nil {
			return nil, fmt.Errorf("charmcraft.yaml: %w", err)
		}
		if cc.meta == nil {
			return nil, fmt.Errorf("no metadata.yaml, and charmcraft.yaml has no \"name\": add the metadata keys to charmcraft.yaml or write metadata.yaml")
		}
		c.Meta = cc.meta
	default:
		return nil, errNoMetadata
	}

	if cc != nil && cc.config != nil {
		c.Config = cc.config
	} else if c.Config, err = readParsed(dir, "config.yaml", ParseConfig); err != nil {
		return nil, err
	}
	if c.Config == nil {
		c.Config = &Config{Options: map[string]Option{}}
	}

	if cc != nil && cc.actions != nil {
		c.Actions = cc.actions
	} else if c.Actions, err = readParsed(dir, "actions.yaml", ParseActions); err != nil {
		return nil, err
	}
	if c.Actions == nil {
		c.Actions = &Actions{Specs: map[string]ActionSpec{}}
	}

	if c.Manifest, err = readParsed(dir, "manifest.yaml", ParseManifest); err != nil {
		return nil, err
	}
	if c.Manifest == nil && cc != nil {
		c.Manifest = cc.manifest
	} else if c.Manifest == nil && hasCC {
		if c.Manifest, err = charmcraftManifest(ccData); err != nil {
			return nil, fmt.Errorf("charmcraft.yaml: %w", err)
		}
	}

	if data, ok, err := readOptional(dir, "version"); err != nil {
		return nil, err
	} else if ok {
		c.Version = strings.TrimSpace(string(data))
	}
	if data, ok, err := readOptional(dir, "revision"); err != nil {
		return nil, err
	} else if ok {
		s := strings.TrimSpace(string(data))
		rev, err := strconv.Atoi(s)
		if err != nil || rev < 0 {
			return nil, fmt.Errorf("revision: %q is not a revision number; put a non-negative integer in the file or delete it", s)
		}
		c.Revision = rev
	}
	return c, nil
}

// readParsed reads and parses an optional file; absent gives nil.
func readParsed[T any](dir, name string, parse func([]byte) (*T, error)) (*T, error) {
	data, ok, err := readOptional(dir, name)
	if err != nil || !ok {
		return nil, err
	}
	v, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

// readOptional reads dir/name, reporting whether it exists.
func readOptional(dir, name string) ([]byte, bool, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cannot read %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, false, fmt.Errorf("cannot read %s: not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMetadataFile+1))
	if err != nil {
		return nil, false, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if len(data) > maxMetadataFile {
		return nil, false, fmt.Errorf("cannot read %s: larger than %d MiB", name, maxMetadataFile>>20)
	}
	return data, true, nil
}
