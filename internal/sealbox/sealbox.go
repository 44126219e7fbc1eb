// Package sealbox seals secret content at rest: AES-256-GCM under a
// controller key kept in a file of the controller's data directory (not
// in the store), so the store's documents and backups hold ciphertext
// only.
//
//	Open(path): read the 32-byte key, or create it (0600) on first use
//	Seal(content) = nonce ‖ GCM(JSON(content))     Unseal reverses it
//
// Who imports it: the API server. It never logs content.
package sealbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/troupe-dev/troupe/internal/atomicfile"
)

// Box seals and unseals with one key. Safe for concurrent use.
type Box struct{ aead cipher.AEAD }

// Open loads the key at path, creating it when the file does not exist.
func Open(path string) (*Box, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("cannot create secret key: %w", err)
		}
		if err := atomicfile.Write(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("cannot write secret key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("cannot read secret key: %w", err)
	}
	return New(key)
}

// New returns a box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts content.
func (b *Box) Seal(content map[string]string) ([]byte, error) {
	plain, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return b.aead.Seal(nonce, nonce, plain, nil), nil
}

// Unseal decrypts what Seal returned; a wrong key or altered bytes fail.
func (b *Box) Unseal(sealed []byte) (map[string]string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("cannot unseal secret: too short")
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, errors.New("cannot unseal secret: wrong key or corrupt content")
	}
	out := map[string]string{}
	if err := json.Unmarshal(plain, &out); err != nil {
		return nil, fmt.Errorf("cannot unseal secret: %w", err)
	}
	return out, nil
}
