// Package sockpath chooses unix socket paths that fit the kernel's limit.
// A socket lives in its owner's directory when the path is short enough
// (as Juju's agent.socket does); otherwise it gets a name derived from that
// directory under the system temp dir, so deep $TROUPE_HOME paths work.
package sockpath

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
)

// Max leaves room under the 108-byte sun_path limit for the temporary name
// a server may bind before renaming into place.
const Max = 80

// For returns the socket path for name owned by dir.
func For(dir, name string) string {
	p := filepath.Join(dir, name)
	if len(p) <= Max {
		return p
	}
	sum := sha256.Sum256([]byte(p))
	return filepath.Join(os.TempDir(), "troupe-"+hex.EncodeToString(sum[:8])+".socket")
}
