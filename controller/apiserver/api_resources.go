package apiserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/atomicfile"
	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
)

// resourceDir is where file resources live on the controller, by content
// hash, beside the charm archives.
func (s *Server) resourceDir() string { return filepath.Join(s.cfg.CharmDir, "resources") }

// saveResources validates `deploy --resource` uploads against the charm's
// file resources and stores them; the result goes in the application's
// Resources.
func (s *Server) saveResources(meta *charm.Meta, files map[string][]byte) (map[string]string, error) {
	if len(files) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for key, data := range files {
		name, file, ok := strings.Cut(key, "/")
		if !ok || file == "" || strings.ContainsAny(file, "/\\") || file == "." || file == ".." {
			return nil, fmt.Errorf("invalid resource upload %q", key)
		}
		r, ok := meta.Resources[name]
		if !ok {
			return nil, fmt.Errorf("charm %q has no resource %q", meta.Name, name)
		}
		if r.Type != charm.ResourceFile {
			return nil, fmt.Errorf("resource %q of charm %q is an %s; only file resources are supported", name, meta.Name, r.Type)
		}
		sum := sha256.Sum256(data)
		hexsum := hex.EncodeToString(sum[:])
		if err := os.MkdirAll(s.resourceDir(), 0o700); err != nil {
			return nil, err
		}
		if err := atomicfile.Write(filepath.Join(s.resourceDir(), hexsum), data, 0o600); err != nil {
			return nil, fmt.Errorf("cannot store resource %q: %w", name, err)
		}
		out[name] = hexsum + "/" + file
	}
	return out, nil
}

// GetResource implements apipb.ControllerServer.
func (s *Server) GetResource(ctx context.Context, req *apipb.GetResourceRequest) (*apipb.GetResourceResult, error) {
	tag, err := requireUnit(ctx, req.Unit)
	if err != nil {
		return nil, err
	}
	app, _, _ := strings.Cut(req.Unit, "/")
	var a entity.Application
	if _, err := s.cfg.Store.Get(ctx, entity.ApplicationKey(tag.Model, app), &a); err != nil {
		return nil, err
	}
	ref, ok := a.Resources[req.Name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "resource %q not found", req.Name)
	}
	sum, file, _ := strings.Cut(ref, "/")
	data, err := os.ReadFile(filepath.Join(s.resourceDir(), sum))
	if errors.Is(err, os.ErrNotExist) {
		return nil, status.Errorf(codes.NotFound, "resource %q is missing from the controller's store", req.Name)
	}
	if err != nil {
		return nil, err
	}
	return &apipb.GetResourceResult{Filename: file, Content: data, Sha256: sum}, nil
}
