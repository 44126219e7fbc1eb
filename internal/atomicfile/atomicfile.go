// Package atomicfile replaces a file's contents durably: the new bytes
// are written to a temporary file beside it, fsynced, renamed over the
// old file, and the directory is fsynced, so after a crash at any instant
// the file holds either the old or the new contents, never a mix.
//
// Who imports it: agent-side packages that persist local state (the
// uniter's operation state, its outbox). It does nothing else.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path's contents with data, with permissions perm.
func Write(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, true)
}

// Replace is Write without the fsyncs: readers never see a torn file,
// and a crash of the writing process loses nothing (the page cache
// survives it), but a crash of the machine may leave the old contents or
// none. For records that only matter while the processes they describe
// run (a running hook's process group), which a machine crash ends too.
func Replace(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, false)
}

func write(path string, data []byte, perm os.FileMode, durable bool) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
