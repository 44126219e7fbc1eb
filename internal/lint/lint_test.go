package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/troupe-dev/troupe"

// pkg is the part of `go list -json` output the checks read.
type pkg struct {
	ImportPath   string
	Dir          string
	Name         string
	Doc          string
	Standard     bool
	DepOnly      bool
	Imports      []string
	Deps         []string
	GoFiles      []string
	TestGoFiles  []string
	XTestGoFiles []string
	Error        *struct{ Err string }
}

var (
	listOnce sync.Once
	listPkgs map[string]*pkg
	listErr  error
)

// packages returns every package of the module and every package they depend
// on, keyed by import path, from one `go list -deps` run.
func packages(t *testing.T) map[string]*pkg {
	t.Helper()
	listOnce.Do(func() {
		cmd := exec.Command("go", "list", "-e", "-deps", "-json", "./...")
		cmd.Dir = repoRoot(t)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			listErr = fmt.Errorf("go list failed: %v\n%s", err, stderr.Bytes())
			return
		}
		listPkgs = make(map[string]*pkg)
		dec := json.NewDecoder(bytes.NewReader(out))
		for {
			var p pkg
			if err := dec.Decode(&p); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				listErr = fmt.Errorf("cannot decode go list output: %v", err)
				return
			}
			listPkgs[p.ImportPath] = &p
		}
	})
	if listErr != nil {
		t.Fatal(listErr)
	}
	return listPkgs
}

// modulePackages returns the module's own packages, sorted by import path.
func modulePackages(t *testing.T) []*pkg {
	var own []*pkg
	for _, p := range packages(t) {
		if !p.DepOnly && inTree(p.ImportPath, module) {
			own = append(own, p)
		}
	}
	sort.Slice(own, func(i, j int) bool { return own[i].ImportPath < own[j].ImportPath })
	if len(own) == 0 {
		t.Fatal("go list found no packages in the module; is the test running inside the repository?")
	}
	return own
}

// inTree reports whether path is prefix or a package below it.
func inTree(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("cannot find go.mod above the test's directory")
		}
		dir = parent
	}
}

// goFiles lists the repository's Go files: tracked and untracked-but-not-
// ignored ones when git knows the tree, otherwise every .go file outside
// hidden directories and bin/.
func goFiles(t *testing.T) []string {
	root := repoRoot(t)
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.go")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f == "" {
				continue
			}
			// A file deleted in the work tree but still in the index.
			if _, err := os.Stat(filepath.Join(root, f)); err == nil {
				files = append(files, f)
			}
		}
		return files
	}
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "bin") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestGofmt(t *testing.T) {
	root := repoRoot(t)
	files := goFiles(t)
	if len(files) == 0 {
		t.Fatal("found no Go files to check")
	}
	for _, f := range files {
		src, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Errorf("cannot read %s: %v", f, err)
			continue
		}
		formatted, err := format.Source(src)
		if err != nil {
			t.Errorf("%s does not parse: %v", f, err)
			continue
		}
		if !bytes.Equal(src, formatted) {
			t.Errorf("%s is not gofmt clean; run: gofmt -w %s", f, f)
		}
	}
}

func TestPackageDocs(t *testing.T) {
	for _, p := range modulePackages(t) {
		if p.Error != nil && len(p.GoFiles)+len(p.TestGoFiles)+len(p.XTestGoFiles) == 0 {
			t.Errorf("package %s cannot be loaded: %s", p.ImportPath, p.Error.Err)
			continue
		}
		if strings.TrimSpace(p.Doc) != "" {
			continue
		}
		// A directory of tests only (tests/) has no non-test files, so its
		// doc comment, if any, sits in a test file.
		if len(p.GoFiles) == 0 && testFilesHaveDoc(t, p) {
			continue
		}
		t.Errorf("package %s (%s) has no package doc comment; add a doc.go saying what it does, who imports it and what it never does",
			p.ImportPath, p.Dir)
	}
}

func testFilesHaveDoc(t *testing.T, p *pkg) bool {
	fset := token.NewFileSet()
	for _, name := range append(append([]string{}, p.TestGoFiles...), p.XTestGoFiles...) {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("cannot parse %s: %v", filepath.Join(p.Dir, name), err)
			continue
		}
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			return true
		}
	}
	return false
}

// boundary is one import rule: no package in From may depend, directly or
// through other packages, on a package in any of Forbidden.
type boundary struct {
	name      string
	from      []string
	forbidden []string
}

var boundaries = []boundary{
	{
		name:      "agents and workers never import the controller",
		from:      []string{"machineagent", "unitagent", "workers"},
		forbidden: []string{"controller"},
	},
	{
		name:      "providers know nothing of actors, workers, the controller or agents",
		from:      []string{"providers"},
		forbidden: []string{"actors", "workers", "controller", "machineagent", "unitagent"},
	},
}

func TestImportBoundaries(t *testing.T) {
	all := packages(t)
	own := modulePackages(t)
	for _, b := range boundaries {
		t.Run(b.name, func(t *testing.T) {
			for _, p := range own {
				if !underAny(p.ImportPath, b.from) {
					continue
				}
				for _, dep := range p.Deps {
					if underAny(dep, b.forbidden) {
						t.Errorf("package %s must not depend on %s (import chain: %s)",
							p.ImportPath, dep, strings.Join(importChain(all, p.ImportPath, dep), " -> "))
					}
				}
			}
		})
	}
}

// slowStartPackages are standard packages the hook tool client must not
// link: their initialisers, or the dynamic linking they bring, cost more per
// hook tool call than the call itself (see BenchmarkHookToolCall in
// internal/hooktool). os pulls in time and internal/godebug; net makes the
// binary load libc when cgo is enabled.
var slowStartPackages = []string{
	"encoding/json", "fmt", "internal/godebug", "net", "os", "reflect", "runtime/cgo", "time",
}

func TestHooktoolDependsOnlyOnStdlib(t *testing.T) {
	all := packages(t)
	const main = module + "/cmd/hooktool"
	allowed := map[string]bool{module + "/internal/hooktool/wire": true}
	slow := map[string]bool{}
	for _, s := range slowStartPackages {
		slow[s] = true
	}
	p, ok := all[main]
	if !ok {
		t.Fatalf("package %s not found by go list", main)
	}
	for _, dep := range p.Deps {
		d, ok := all[dep]
		if !ok {
			t.Errorf("go list reported dependency %s of %s but no package for it", dep, main)
			continue
		}
		if slow[dep] {
			t.Errorf("%s must not depend on %s: it starts on every hook tool call and %s slows its start-up (import chain: %s); use syscall and internal/hooktool/wire instead",
				main, dep, dep, strings.Join(importChain(all, main, dep), " -> "))
			continue
		}
		if d.Standard || allowed[dep] {
			continue
		}
		t.Errorf("%s must depend only on the standard library and internal/hooktool/wire (it starts on every hook tool call), but depends on %s (import chain: %s)",
			main, dep, strings.Join(importChain(all, main, dep), " -> "))
	}
}

// underAny reports whether importPath is one of the module's top-level trees
// named in dirs, or below one.
func underAny(importPath string, dirs []string) bool {
	for _, d := range dirs {
		if inTree(importPath, module+"/"+d) {
			return true
		}
	}
	return false
}

// importChain returns a shortest chain of direct imports from one package to
// another, so a failure shows which import to remove.
func importChain(all map[string]*pkg, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == to {
			var chain []string
			for n := to; n != ""; n = prev[n] {
				chain = append([]string{n}, chain...)
			}
			return chain
		}
		p, ok := all[cur]
		if !ok {
			continue
		}
		for _, imp := range p.Imports {
			if _, seen := prev[imp]; !seen {
				prev[imp] = cur
				queue = append(queue, imp)
			}
		}
	}
	return []string{from, "…", to}
}
