package sealbox_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/troupe-dev/troupe/internal/sealbox"
)

func TestSealRoundTripAndKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.key")
	b, err := sealbox.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal(map[string]string{"password": "hunter22"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter22")) {
		t.Fatalf("sealed bytes contain the plaintext")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	// Re-opening reuses the key.
	b2, err := sealbox.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b2.Unseal(sealed)
	if err != nil || got["password"] != "hunter22" || len(got) != 1 {
		t.Fatalf("unseal = %v, %v", got, err)
	}
	other, _ := sealbox.New(bytes.Repeat([]byte{1}, 32))
	if _, err := other.Unseal(sealed); err == nil {
		t.Fatalf("unseal with another key succeeded")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := b2.Unseal(sealed); err == nil {
		t.Fatalf("unseal of altered bytes succeeded")
	}
}
