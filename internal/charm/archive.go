package charm

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Limits bounds what Unpack accepts. A zero field takes its value from
// DefaultLimits.
type Limits struct {
	MaxFiles     int   // entries in the archive
	MaxTotalSize int64 // bytes, summed over uncompressed entries
	MaxFileSize  int64 // bytes, one uncompressed entry
}

// DefaultLimits returns limits that fit every real charm: ops charms ship
// a virtualenv of tens of thousands of files, never gigabytes.
func DefaultLimits() Limits {
	return Limits{
		MaxFiles:     200_000,
		MaxTotalSize: 2 << 30,
		MaxFileSize:  1 << 30,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFiles <= 0 {
		l.MaxFiles = d.MaxFiles
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = d.MaxTotalSize
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = d.MaxFileSize
	}
	return l
}

// maxSymlinkTarget bounds a symlink entry's content.
const maxSymlinkTarget = 4096

// Pack writes the charm directory dir to w as a zip archive. Entries keep
// their permission bits; .git is skipped. A symlink is stored as a symlink
// when its target stays inside the charm and is an error otherwise, as is
// any file that is neither regular, directory nor symlink.
func Pack(dir string, w io.Writer) error {
	zw := zip.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		return packEntry(zw, p, name, info)
	})
	if err != nil {
		return fmt.Errorf("cannot pack charm dir %q: %w", dir, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("cannot pack charm dir %q: %w", dir, err)
	}
	return nil
}

func packEntry(zw *zip.Writer, p, name string, info fs.FileInfo) error {
	hdr, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	hdr.Name = name
	switch mode := info.Mode(); {
	case mode.IsDir():
		hdr.Name += "/"
		hdr.Method = zip.Store
		_, err := zw.CreateHeader(hdr)
		return err
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		if _, ok := symlinkInside(name, filepath.ToSlash(target)); !ok {
			return fmt.Errorf("symlink %q points outside the charm (%q): replace it with the file itself or a link inside the charm", name, target)
		}
		hdr.Method = zip.Store
		out, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		_, err = io.WriteString(out, filepath.ToSlash(target))
		return err
	case mode.IsRegular():
		hdr.Method = zip.Deflate
		out, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(out, f)
		return err
	default:
		return fmt.Errorf("%q is a %s, not a file, directory or symlink: remove it from the charm", name, mode.Type())
	}
}

// symlinkInside resolves target relative to the directory of the link
// called name (both slash paths relative to the charm root) and reports
// whether the result stays inside the root. ".." may only lead the
// target: the kernel resolves "a/.." through a symlink a, not lexically,
// so "a/x/../.." could climb out even though it cleans to ".".
func symlinkInside(name, target string) (string, bool) {
	if target == "" || path.IsAbs(target) || strings.ContainsRune(target, 0) {
		return "", false
	}
	descending := false
	for _, part := range strings.Split(target, "/") {
		switch part {
		case "..":
			if descending {
				return "", false
			}
		case ".", "":
		default:
			descending = true
		}
	}
	resolved := path.Join(path.Dir(name), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return "", false
	}
	return resolved, true
}

type entryKind int

const (
	kindDir entryKind = iota
	kindFile
	kindSymlink
)

// plannedEntry is one validated archive entry.
type plannedEntry struct {
	file   *zip.File
	name   string // cleaned slash path relative to dest
	kind   entryKind
	target string // symlinks only
	exec   bool   // files only
}

// Unpack extracts the zip archive in r into dest. It checks every entry
// before writing anything, and refuses the whole archive when an entry has
// an absolute path or a ".." component, is a symlink whose target leaves
// dest, sits under a file or symlink entry, is duplicated, is neither a
// file, directory nor symlink, or when the archive exceeds limits. dest
// must not exist or be an empty directory; if writing fails half-way,
// what was written is removed. Regular files get mode 0755 when the
// archive gives them any execute bit, else 0644.
func Unpack(r io.ReaderAt, size int64, dest string, limits Limits) error {
	if err := unpack(r, size, dest, limits.withDefaults()); err != nil {
		return fmt.Errorf("cannot unpack charm archive: %w", err)
	}
	return nil
}

func unpack(r io.ReaderAt, size int64, dest string, limits Limits) error {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return err
	}
	plan, err := planEntries(zr.File, limits)
	if err != nil {
		return err
	}
	created, err := prepareDest(dest)
	if err != nil {
		return err
	}
	if err := writeEntries(dest, plan, limits); err != nil {
		cleanupDest(dest, created)
		return err
	}
	return nil
}

func planEntries(files []*zip.File, limits Limits) ([]plannedEntry, error) {
	if len(files) > limits.MaxFiles {
		return nil, fmt.Errorf("archive has %d entries, more than the limit of %d", len(files), limits.MaxFiles)
	}
	var plan []plannedEntry
	kinds := map[string]entryKind{}
	var total uint64
	for _, f := range files {
		name, err := cleanEntryName(f.Name)
		if err != nil {
			return nil, err
		}
		e := plannedEntry{file: f, name: name}
		mode := f.Mode()
		switch {
		case mode.IsDir() || strings.HasSuffix(f.Name, "/"):
			e.kind = kindDir
		case mode&fs.ModeSymlink != 0:
			e.kind = kindSymlink
		case mode.Type() == 0:
			e.kind = kindFile
			e.exec = mode.Perm()&0o111 != 0
		default:
			return nil, fmt.Errorf("entry %q is a %s; only files, directories and symlinks are allowed", f.Name, mode.Type())
		}
		if name == "." {
			if e.kind != kindDir {
				return nil, fmt.Errorf("entry %q has no name", f.Name)
			}
			continue
		}
		if _, dup := kinds[name]; dup {
			return nil, fmt.Errorf("entry %q appears more than once", name)
		}
		kinds[name] = e.kind
		if f.UncompressedSize64 > uint64(limits.MaxFileSize) {
			return nil, fmt.Errorf("entry %q is %d bytes, more than the limit of %d", name, f.UncompressedSize64, limits.MaxFileSize)
		}
		total += f.UncompressedSize64
		if total > uint64(limits.MaxTotalSize) {
			return nil, fmt.Errorf("archive expands to more than the limit of %d bytes", limits.MaxTotalSize)
		}
		if e.kind == kindSymlink {
			if e.target, err = readSymlinkEntry(f); err != nil {
				return nil, err
			}
			if _, ok := symlinkInside(name, e.target); !ok {
				return nil, fmt.Errorf("symlink %q points outside the charm (%q)", name, e.target)
			}
		}
		plan = append(plan, e)
	}
	// Nothing may live under a file or a symlink: writing through a
	// symlink could land anywhere its target (or a chain of them) leads.
	for _, e := range plan {
		for dir := path.Dir(e.name); dir != "."; dir = path.Dir(dir) {
			if k, ok := kinds[dir]; ok && k != kindDir {
				return nil, fmt.Errorf("entry %q sits under %q, which is not a directory", e.name, dir)
			}
		}
	}
	// Directories first, then files, symlinks last.
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].kind < plan[j].kind })
	return plan, nil
}

// cleanEntryName checks an archive entry name and returns it cleaned; "."
// names the root itself.
func cleanEntryName(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("archive has an entry with an empty name")
	case strings.ContainsRune(name, 0):
		return "", fmt.Errorf("entry %q has a NUL byte in its name", name)
	case strings.Contains(name, `\`):
		return "", fmt.Errorf("entry %q has a backslash in its name", name)
	case strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("entry %q has an absolute path", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q has a \"..\" path component", name)
		}
	}
	return path.Clean(name), nil
}

func readSymlinkEntry(f *zip.File) (string, error) {
	if f.UncompressedSize64 > maxSymlinkTarget {
		return "", fmt.Errorf("symlink %q has a target longer than %d bytes", f.Name, maxSymlinkTarget)
	}
	rc, err := f.Open()
	if err != nil {
		return "", fmt.Errorf("cannot read symlink %q: %w", f.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxSymlinkTarget+1))
	if err != nil {
		return "", fmt.Errorf("cannot read symlink %q: %w", f.Name, err)
	}
	if len(data) > maxSymlinkTarget {
		return "", fmt.Errorf("symlink %q has a target longer than %d bytes", f.Name, maxSymlinkTarget)
	}
	return string(data), nil
}

// prepareDest makes sure dest is an empty directory, creating it when
// missing; created reports whether it did.
func prepareDest(dest string) (created bool, err error) {
	fi, err := os.Lstat(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return false, err
		}
		return true, nil
	case err != nil:
		return false, err
	case !fi.IsDir():
		return false, fmt.Errorf("destination %q exists and is not a directory", dest)
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		return false, err
	}
	if len(entries) > 0 {
		return false, fmt.Errorf("destination %q is not empty; unpack into a new directory", dest)
	}
	return false, nil
}

func cleanupDest(dest string, created bool) {
	if created {
		os.RemoveAll(dest)
		return
	}
	entries, _ := os.ReadDir(dest)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dest, e.Name()))
	}
}

func writeEntries(dest string, plan []plannedEntry, limits Limits) error {
	root, err := os.OpenRoot(dest)
	if err != nil {
		return err
	}
	defer root.Close()
	var written int64
	for _, e := range plan {
		name := filepath.FromSlash(e.name)
		if parent := filepath.Dir(name); parent != "." {
			if err := root.MkdirAll(parent, 0o755); err != nil {
				return err
			}
		}
		switch e.kind {
		case kindDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
		case kindSymlink:
			if err := root.Symlink(filepath.FromSlash(e.target), name); err != nil {
				return err
			}
		case kindFile:
			n, err := writeFile(root, name, e, limits.MaxTotalSize-written)
			if err != nil {
				return err
			}
			written += n
		}
	}
	return nil
}

// writeFile writes one regular entry, refusing more than budget bytes (or
// more than the entry declared: the header may lie).
func writeFile(root *os.Root, name string, e plannedEntry, budget int64) (int64, error) {
	mode := fs.FileMode(0o644)
	if e.exec {
		mode = 0o755
	}
	rc, err := e.file.Open()
	if err != nil {
		return 0, fmt.Errorf("cannot read entry %q: %w", e.name, err)
	}
	defer rc.Close()
	out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return 0, err
	}
	limit := min(int64(e.file.UncompressedSize64), budget)
	n, err := io.Copy(out, io.LimitReader(rc, limit+1))
	if err == nil && n > limit {
		err = fmt.Errorf("entry %q holds more data than its header declares or the size limit allows", e.name)
	}
	if err == nil {
		err = out.Chmod(mode) // umask must not strip the exec bit
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("cannot write entry %q: %w", e.name, err)
	}
	return n, nil
}

// ReadArchive reads a .charm file (a zip archive) by unpacking it into a
// temporary directory, which is removed before returning.
func ReadArchive(archivePath string) (*Charm, error) {
	f, err := os.Open(archivePath)
	if err != nil {
		return nil, fmt.Errorf("cannot read charm archive %q: %w", archivePath, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read charm archive %q: %w", archivePath, err)
	}
	tmp, err := os.MkdirTemp("", "troupe-charm-")
	if err != nil {
		return nil, fmt.Errorf("cannot read charm archive %q: %w", archivePath, err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "charm")
	if err := Unpack(f, fi.Size(), dir, DefaultLimits()); err != nil {
		return nil, fmt.Errorf("cannot read charm archive %q: %w", archivePath, err)
	}
	c, err := readDir(dir)
	if errors.Is(err, errNoMetadata) {
		return nil, fmt.Errorf("charm archive %q has no metadata.yaml: it is not a charm; build one with \"charmcraft pack\"", archivePath)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read charm archive %q: %w", archivePath, err)
	}
	return c, nil
}
