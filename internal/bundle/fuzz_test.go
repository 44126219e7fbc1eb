package bundle

import "testing"

// FuzzParse: any bytes parse to a bundle or an error, never a panic.
// Corpus: testdata/fuzz/FuzzParse/ (the golden inputs).
func FuzzParse(f *testing.F) {
	f.Add([]byte("applications:\n  a:\n    charm: ./a\n    num_units: 2\n    to: [\"0\", \"lxd:1\"]\nmachines:\n  \"0\": {}\nrelations:\n- [a:db, b:db]\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data, dir)
		if err == nil && b == nil {
			t.Fatal("nil bundle without an error")
		}
	})
}
