package uniter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/atomicfile"
	"github.com/troupe-dev/troupe/internal/hookcmds"
)

// ResourcePath implements hookcmds.ResourceContext: the resource is
// fetched from the controller and kept under the unit's directory
// (resources/<name>/<file name>); a copy whose content matches is reused.
func (b *backend) ResourcePath(name string) (string, error) {
	res, err := b.u.cfg.API.GetResource(b.ctx(), &apipb.GetResourceRequest{Unit: b.u.cfg.Unit, Name: name})
	if status.Code(err) == codes.NotFound {
		return "", hookcmds.ErrResourceNotFound
	}
	if err != nil {
		return "", fmt.Errorf("cannot fetch resource %q: %w", name, err)
	}
	sum := sha256.Sum256(res.Content)
	if hex.EncodeToString(sum[:]) != res.Sha256 {
		return "", fmt.Errorf("resource %q arrived corrupt (checksum mismatch); retry the hook", name)
	}
	dir := filepath.Join(b.u.cfg.UnitDir, "resources", name)
	path := filepath.Join(dir, filepath.Base(res.Filename))
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, res.Content) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := atomicfile.Write(path, res.Content, 0o644); err != nil {
		return "", fmt.Errorf("cannot write resource %q: %w", name, err)
	}
	return path, nil
}
