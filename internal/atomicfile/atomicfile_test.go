package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteAndReplace: both replace the whole contents with the given
// mode and leave no temporary file behind.
func TestWriteAndReplace(t *testing.T) {
	for name, fn := range map[string]func(string, []byte, os.FileMode) error{"Write": Write, "Replace": Replace} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			for _, data := range []string{"first contents, longer", "second"} {
				if err := fn(path, []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(path)
				if err != nil || string(got) != data {
					t.Fatalf("read %q, %v; want %q", got, err, data)
				}
			}
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v, %v; want 0600", fi.Mode(), err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Fatalf("directory holds %d entries, want only the file: %v", len(entries), entries)
			}
		})
	}
}
