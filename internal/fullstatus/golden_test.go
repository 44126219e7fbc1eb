package fullstatus

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// checkGolden compares got with testdata/name, or rewrites the file when
// -update is given.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update if the change is intended)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		doc    func() *Status
		write  func(*bytes.Buffer, *Status) error
	}{
		{"full.json", fullDoc, func(b *bytes.Buffer, s *Status) error { return WriteJSON(b, s) }},
		{"full.yaml", fullDoc, func(b *bytes.Buffer, s *Status) error { return WriteYAML(b, s) }},
		{"full.txt", fullDoc, func(b *bytes.Buffer, s *Status) error { return WriteTabular(b, s, TabularOptions{}) }},
		{"full-integrations.txt", fullDoc, func(b *bytes.Buffer, s *Status) error {
			return WriteTabular(b, s, TabularOptions{Integrations: true})
		}},
		{"full-color.txt", fullDoc, func(b *bytes.Buffer, s *Status) error {
			return WriteTabular(b, s, TabularOptions{Color: true, Integrations: true})
		}},
		{"empty.json", emptyDoc, func(b *bytes.Buffer, s *Status) error { return WriteJSON(b, s) }},
		{"empty.yaml", emptyDoc, func(b *bytes.Buffer, s *Status) error { return WriteYAML(b, s) }},
		{"empty.txt", emptyDoc, func(b *bytes.Buffer, s *Status) error { return WriteTabular(b, s, TabularOptions{Integrations: true}) }},
		{"caas.json", caasDoc, func(b *bytes.Buffer, s *Status) error { return WriteJSON(b, s) }},
		{"caas.txt", caasDoc, func(b *bytes.Buffer, s *Status) error { return WriteTabular(b, s, TabularOptions{}) }},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b, tt.doc()); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, b.Bytes())
		})
	}
}
