package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/constraints"
)

var baseRE = regexp.MustCompile(`^[a-z]+@[0-9][0-9.]*(/[a-z]+)?$`)

// checkDeployFlags validates the deploy flags that troupe accepts for
// Juju compatibility but only checks (or refuses, for Charmhub).
func checkDeployFlags(path, base string, cons []string, channel string, revision int, overlay bool) error {
	if !strings.HasPrefix(path, ".") && !strings.HasPrefix(path, "/") {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("cannot deploy %q: Charmhub is not supported; deploy a local charm directory or .charm archive (a path starting with ./ or /)", path)
		}
	}
	if channel != "" || revision >= 0 {
		return usage(fmt.Errorf("--channel and --revision select Charmhub charms, which troupe does not support; deploy a local charm"))
	}
	if overlay {
		return usage(fmt.Errorf("--overlay is not supported; merge the overlay into the bundle file"))
	}
	if base != "" && !baseRE.MatchString(base) {
		return usage(fmt.Errorf("invalid --base %q: expected <os>@<channel>, e.g. ubuntu@24.04", base))
	}
	if _, err := constraints.Parse(cons); err != nil {
		return usage(fmt.Errorf("invalid --constraints: %w", err))
	}
	return nil
}

// readResources reads `--resource name=path` file resources. The files are
// read now, during the call (callers delete them right after).
func readResources(specs []string) (map[string][]byte, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	out := map[string][]byte{}
	for _, spec := range specs {
		name, path, ok := strings.Cut(spec, "=")
		if !ok || name == "" || path == "" {
			return nil, usage(fmt.Errorf("invalid --resource %q: expected name=path", spec))
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read resource %q: %w (OCI image resources are not supported; give a file path)", name, err)
		}
		out[name+"/"+filepath.Base(path)] = data
	}
	return out, nil
}

// storageDirectives reads `--storage name=spec` flags (the controller
// checks the spec against the charm) and refuses `--attach-storage`.
func storageDirectives(specs, attach []string) (map[string]string, error) {
	if len(cmdline.SplitCommas(attach...)) > 0 {
		return nil, usage(fmt.Errorf("--attach-storage is not supported: troupe cannot attach existing storage to a new unit; deploy or add the unit without it and let it get new storage"))
	}
	if len(specs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, spec := range specs {
		name, value, ok := strings.Cut(spec, "=")
		if !ok || name == "" || value == "" {
			return nil, usage(fmt.Errorf("invalid --storage %q: expected name=pool,size,count, e.g. data=rootfs,2G,1", spec))
		}
		out[name] = value
	}
	return out, nil
}
