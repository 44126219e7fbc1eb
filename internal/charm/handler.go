package charm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoHandler means the charm has no handler for a hook or action. For a
// hook the caller skips it and commits it as if it had succeeded.
var ErrNoHandler = errors.New("charm: no handler")

// Handler is the executable to run for one hook or action.
type Handler struct {
	Path string // charmDir joined with "dispatch", "hooks/<name>" or "actions/<name>"
	// Dispatch is true when Path is the charm's dispatch script; the
	// caller then sets JUJU_DISPATCH_PATH to hooks/<name> or
	// actions/<name>.
	Dispatch bool
}

// FindHandler finds what runs hookName in the charm at charmDir: dispatch
// when present, else hooks/<hookName>. It returns ErrNoHandler when
// neither exists, and an error (never ErrNoHandler) when the file is
// present but not an executable regular file, or when hookName is not a
// plain file name.
func FindHandler(charmDir, hookName string) (Handler, error) {
	return findHandler(charmDir, "hooks", hookName)
}

// FindActionHandler is FindHandler for actions: dispatch when present,
// else actions/<actionName>, else ErrNoHandler.
func FindActionHandler(charmDir, actionName string) (Handler, error) {
	return findHandler(charmDir, "actions", actionName)
}

func findHandler(charmDir, kind, name string) (Handler, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return Handler{}, fmt.Errorf("invalid %s name %q", strings.TrimSuffix(kind, "s"), name)
	}
	dispatch := filepath.Join(charmDir, "dispatch")
	found, err := executable(dispatch)
	if err != nil {
		return Handler{}, err
	}
	if found {
		return Handler{Path: dispatch, Dispatch: true}, nil
	}
	p := filepath.Join(charmDir, kind, name)
	found, err = executable(p)
	if err != nil {
		return Handler{}, err
	}
	if !found {
		return Handler{}, ErrNoHandler
	}
	return Handler{Path: p}, nil
}

// executable reports whether p exists; an existing p that is not an
// executable regular file (following symlinks) is an error.
func executable(p string) (bool, error) {
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("cannot check charm handler %q: %w", p, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return false, fmt.Errorf("charm handler %q is unusable (broken symlink?): %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("charm handler %q is not a regular file", p)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return false, fmt.Errorf("charm handler %q is not executable: make it executable (chmod +x) and repack the charm", p)
	}
	return true, nil
}
