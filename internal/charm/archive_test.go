package charm

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// tree describes a directory: file content, "->target" for symlinks and
// "/" for directories, with modes for files.
type treeEntry struct {
	content string
	mode    fs.FileMode
}

func readTree(t *testing.T, dir string) map[string]treeEntry {
	t.Helper()
	out := map[string]treeEntry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = treeEntry{content: "->" + target}
		case info.IsDir():
			out[rel] = treeEntry{content: "/"}
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = treeEntry{content: string(data), mode: info.Mode().Perm() & 0o111}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func makeCharmDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"metadata.yaml":      "name: packed\n",
		"manifest.yaml":      "bases: [{name: ubuntu, channel: '24.04', architectures: [amd64]}]\n",
		"src/charm.py":       "print('hi')\n",
		"lib/a/b.py":         "x = 1\n",
		".git/HEAD":          "ref: main\n",
		"sub/.git":           "gitdir: elsewhere\n",
		"hooks/config-data":  "not a hook\n",
		"empty-dir/.keep":    "",
		"venv/bin/activate":  "# activate\n",
		"venv/lib/python3/x": "y",
	})
	for _, p := range []string{"src/charm.py"} {
		if err := os.Chmod(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "dispatch"), []byte("#!/bin/sh\nexec ./src/charm.py\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../src/charm.py", filepath.Join(dir, "hooks/install")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("lib/a", filepath.Join(dir, "alias")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPackUnpackRoundTrip(t *testing.T) {
	src := makeCharmDir(t)
	var buf bytes.Buffer
	if err := Pack(src, &buf); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "unpacked")
	if err := Unpack(bytes.NewReader(buf.Bytes()), int64(buf.Len()), dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	want := readTree(t, src)
	delete(want, ".git")
	delete(want, ".git/HEAD")
	delete(want, "sub/.git")
	// Unpack normalises file modes to 0644/0755.
	if e := want["dispatch"]; e.mode != 0o100 {
		t.Fatalf("source dispatch mode %v", e.mode)
	}
	want["dispatch"] = treeEntry{content: want["dispatch"].content, mode: 0o111}
	got := readTree(t, dest)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unpacked tree =\n%v\nwant\n%v", got, want)
	}
	h, err := FindHandler(dest, "install")
	if err != nil || !h.Dispatch {
		t.Errorf("FindHandler in unpacked charm = %+v, %v", h, err)
	}

	archive := filepath.Join(t.TempDir(), "packed.charm")
	if err := os.WriteFile(archive, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ReadArchive(archive)
	if err != nil {
		t.Fatal(err)
	}
	if c.Meta.Name != "packed" || c.Manifest.Bases[0].String() != "ubuntu@24.04" {
		t.Errorf("ReadArchive = %+v, manifest %+v", c.Meta, c.Manifest)
	}
}

func TestReadArchiveTestdata(t *testing.T) {
	for _, name := range []string{"shell", "ops", "unified", "subordinate"} {
		var buf bytes.Buffer
		if err := Pack(filepath.Join("testdata/charms", name), &buf); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), name+".charm")
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		fromArchive, err := ReadArchive(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fromDir, err := ReadDir(filepath.Join("testdata/charms", name))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromArchive, fromDir) {
			t.Errorf("%s: archive and dir differ:\n%+v\n%+v", name, fromArchive, fromDir)
		}
	}
}

func TestReadArchiveErrors(t *testing.T) {
	dir := t.TempDir()
	notZip := filepath.Join(dir, "x.charm")
	writeFiles(t, dir, map[string]string{"x.charm": "not a zip"})
	if _, err := ReadArchive(notZip); err == nil || !strings.Contains(err.Error(), "not a valid zip") {
		t.Errorf("not a zip: %v", err)
	}
	noMeta := filepath.Join(dir, "empty.charm")
	if err := os.WriteFile(noMeta, buildZip(t, []zipEntry{{name: "README", body: "x"}}), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadArchive(noMeta); err == nil || !strings.Contains(err.Error(), `has no metadata.yaml: it is not a charm`) {
		t.Errorf("no metadata: %v", err)
	}
	if _, err := ReadArchive(filepath.Join(dir, "missing.charm")); err == nil {
		t.Error("missing archive read")
	}
}

func TestPackRefusesEscapingSymlinks(t *testing.T) {
	for _, target := range []string{"/etc/passwd", "../outside", "a/../../x", "sub/../../x"} {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"metadata.yaml": "name: a"})
		if err := os.Symlink(target, filepath.Join(dir, "link")); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Pack(dir, &buf); err == nil || !strings.Contains(err.Error(), "points outside the charm") {
			t.Errorf("Pack with link to %q: %v", target, err)
		}
	}
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Pack(dir, &buf); err == nil || !strings.Contains(err.Error(), "not a file, directory or symlink") {
		t.Errorf("Pack with fifo: %v", err)
	}
}

type zipEntry struct {
	name string
	body string
	mode fs.FileMode // zero means 0644 regular file
	// declared overrides the uncompressed size in the header (stored
	// entries only), to model a lying archive.
	declared uint64
}

func buildZip(t *testing.T, entries []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Store}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		hdr.SetMode(mode)
		if e.declared != 0 {
			hdr.CRC32 = crc32.ChecksumIEEE([]byte(e.body))
			hdr.CompressedSize64 = uint64(len(e.body))
			hdr.UncompressedSize64 = e.declared
			w, err := zw.CreateRaw(hdr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnpackRefusesHostileArchives(t *testing.T) {
	ok := zipEntry{name: "metadata.yaml", body: "name: a\n"}
	tests := []struct {
		name    string
		entries []zipEntry
		limits  Limits
		want    string
	}{
		{"dotdot", []zipEntry{ok, {name: "../evil", body: "x"}}, Limits{}, `entry "../evil" has a ".." path component`},
		{"inner dotdot", []zipEntry{ok, {name: "a/../../evil", body: "x"}}, Limits{}, `has a ".." path component`},
		{"dotdot dir", []zipEntry{{name: "../d/", mode: fs.ModeDir | 0o755}}, Limits{}, `has a ".." path component`},
		{"absolute", []zipEntry{ok, {name: "/tmp/evil", body: "x"}}, Limits{}, `entry "/tmp/evil" has an absolute path`},
		{"backslash", []zipEntry{ok, {name: `..\evil`, body: "x"}}, Limits{}, `has a backslash`},
		{"nul", []zipEntry{ok, {name: "a\x00b", body: "x"}}, Limits{}, `NUL byte`},
		{"escaping symlink", []zipEntry{ok, {name: "link", body: "../outside", mode: fs.ModeSymlink | 0o777}}, Limits{}, `symlink "link" points outside the charm ("../outside")`},
		{"deep escaping symlink", []zipEntry{ok, {name: "a/b/link", body: "../../../x", mode: fs.ModeSymlink | 0o777}}, Limits{}, `points outside the charm`},
		{"absolute symlink", []zipEntry{ok, {name: "link", body: "/etc", mode: fs.ModeSymlink | 0o777}}, Limits{}, `points outside the charm ("/etc")`},
		{"non-lexical symlink", []zipEntry{ok, {name: "self", body: ".", mode: fs.ModeSymlink | 0o777}, {name: "link", body: "self/x/../..", mode: fs.ModeSymlink | 0o777}}, Limits{}, `symlink "link" points outside the charm`},
		{"empty symlink", []zipEntry{ok, {name: "link", body: "", mode: fs.ModeSymlink | 0o777}}, Limits{}, `points outside the charm`},
		{"write through symlink", []zipEntry{ok, {name: "dir", body: ".", mode: fs.ModeSymlink | 0o777}, {name: "dir/x", body: "x"}}, Limits{}, `entry "dir/x" sits under "dir", which is not a directory`},
		{"file under file", []zipEntry{ok, {name: "a", body: "x"}, {name: "a/b", body: "y"}}, Limits{}, `entry "a/b" sits under "a"`},
		{"duplicate", []zipEntry{ok, {name: "metadata.yaml", body: "name: b\n"}}, Limits{}, `entry "metadata.yaml" appears more than once`},
		{"duplicate after clean", []zipEntry{ok, {name: "./metadata.yaml", body: "x"}}, Limits{}, `appears more than once`},
		{"dir and file", []zipEntry{{name: "d/", mode: fs.ModeDir | 0o755}, {name: "d", body: "x"}}, Limits{}, `entry "d" appears more than once`},
		{"device", []zipEntry{ok, {name: "dev", mode: fs.ModeDevice | 0o644}}, Limits{}, `only files, directories and symlinks are allowed`},
		{"too many files", []zipEntry{ok, {name: "b", body: "x"}, {name: "c", body: "y"}}, Limits{MaxFiles: 2}, `archive has 3 entries, more than the limit of 2`},
		{"too big total", []zipEntry{ok, {name: "b", body: strings.Repeat("x", 100)}}, Limits{MaxTotalSize: 50}, `archive expands to more than the limit of 50 bytes`},
		{"too big file", []zipEntry{ok, {name: "b", body: strings.Repeat("x", 100)}}, Limits{MaxFileSize: 99}, `entry "b" is 100 bytes, more than the limit of 99`},
		{"long symlink", []zipEntry{ok, {name: "l", body: strings.Repeat("a/", 3000), mode: fs.ModeSymlink | 0o777}}, Limits{}, `target longer than 4096 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := buildZip(t, tt.entries)
			parent := t.TempDir()
			dest := filepath.Join(parent, "charm")
			err := Unpack(bytes.NewReader(data), int64(len(data)), dest, tt.limits)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "cannot unpack charm archive: ") {
				t.Errorf("error %q lacks context", err)
			}
			// Refusal happens before anything is written: not even dest.
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("refused archive left %v behind", entries)
			}
		})
	}
}

func TestUnpackLyingSizeCleansUp(t *testing.T) {
	data := buildZip(t, []zipEntry{
		{name: "metadata.yaml", body: "name: a\n"},
		{name: "big", body: strings.Repeat("x", 1000), declared: 4},
	})
	parent := t.TempDir()
	dest := filepath.Join(parent, "charm")
	err := Unpack(bytes.NewReader(data), int64(len(data)), dest, Limits{})
	if err == nil {
		t.Fatal("Unpack accepted an entry larger than its header says")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("failed unpack left %v behind", entries)
	}
	// Into an existing empty dest, a failure empties it again.
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Unpack(bytes.NewReader(data), int64(len(data)), dest, Limits{}); err == nil {
		t.Fatal("Unpack accepted a lying entry")
	}
	if entries, _ := os.ReadDir(dest); len(entries) != 0 {
		t.Errorf("failed unpack left %v in dest", entries)
	}
}

func TestUnpackDestination(t *testing.T) {
	data := buildZip(t, []zipEntry{
		{name: "./", mode: fs.ModeDir | 0o755},
		{name: "metadata.yaml", body: "name: a\n"},
		{name: "hooks/install", body: "#!/bin/sh\n", mode: 0o744},
		{name: "hooks/x", body: "data", mode: 0o4777 &^ 0o111},
		{name: "lib/", mode: fs.ModeDir | 0o700},
		{name: "lib/link", body: "../hooks/install", mode: fs.ModeSymlink | 0o777},
	})
	nonEmpty := t.TempDir()
	writeFiles(t, nonEmpty, map[string]string{"existing": "x"})
	if err := Unpack(bytes.NewReader(data), int64(len(data)), nonEmpty, Limits{}); err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("non-empty dest: %v", err)
	}
	file := filepath.Join(t.TempDir(), "f")
	writeFiles(t, filepath.Dir(file), map[string]string{"f": ""})
	if err := Unpack(bytes.NewReader(data), int64(len(data)), file, Limits{}); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("file dest: %v", err)
	}
	empty := t.TempDir()
	if err := Unpack(bytes.NewReader(data), int64(len(data)), empty, Limits{}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]fs.FileMode{"hooks/install": 0o755, "hooks/x": 0o644, "metadata.yaml": 0o644} {
		fi, err := os.Stat(filepath.Join(empty, name))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", name, fi.Mode().Perm(), err, want)
		}
	}
	if target, err := os.Readlink(filepath.Join(empty, "lib/link")); err != nil || target != "../hooks/install" {
		t.Errorf("symlink = %q, %v", target, err)
	}
	if _, err := FindHandler(empty, "install"); err != nil {
		t.Errorf("unpacked hook: %v", err)
	}
}

func TestDefaultLimits(t *testing.T) {
	d := DefaultLimits()
	if d.MaxFiles <= 0 || d.MaxTotalSize <= 0 || d.MaxFileSize <= 0 {
		t.Errorf("DefaultLimits = %+v", d)
	}
	if got := (Limits{MaxFiles: 3}).withDefaults(); got.MaxFiles != 3 || got.MaxTotalSize != d.MaxTotalSize || got.MaxFileSize != d.MaxFileSize {
		t.Errorf("withDefaults = %+v", got)
	}
}
