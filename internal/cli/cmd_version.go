package cli

import (
	"runtime"
	"runtime/debug"
)

// versionDoc is `version --format json [--all]`: the version string, and
// with all the build details Juju prints (git-commit from the module's VCS
// stamp when the binary has one).
func versionDoc(all bool) map[string]any {
	doc := map[string]any{"version": Version}
	if !all {
		return doc
	}
	doc["compiler"] = runtime.Compiler
	doc["go-version"] = runtime.Version()
	doc["official"] = false
	doc["grade"] = "devel"
	doc["git-tree-state"] = "archive"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				doc["git-commit"] = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					doc["git-tree-state"] = "dirty"
				} else {
					doc["git-tree-state"] = "clean"
				}
			}
		}
	}
	return doc
}
