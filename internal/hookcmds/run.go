package hookcmds

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/hooktool"
)

// StdinFunc returns the caller's stdin, or ErrNeedStdin when the request
// carried none.
type StdinFunc = hooktool.StdinFunc

// ErrNeedStdin is what a StdinFunc returns when stdin was not sent.
var ErrNeedStdin = hooktool.ErrNeedStdin

// errHelp is returned by the flag parser for --help.
var errHelp = errors.New("help requested")

// Invocation is one tool call.
type Invocation struct {
	// Name is the tool name, e.g. "relation-get".
	Name string
	Args []string
	// Dir is the caller's working directory; relative paths in arguments
	// are resolved against it.
	Dir string
	// Stdin returns the caller's stdin; nil means none is available.
	Stdin StdinFunc
	// Now is the clock used for relative secret expiry; nil means
	// time.Now.
	Now func() time.Time
}

// Result is a tool's outcome.
type Result struct {
	Code   int
	Stdout []byte
	Stderr []byte
}

// Serve runs req in ctx. It has the signature of hooktool.Handler, so the
// unit agent starts its server with hooktool.NewServer(path, hookcmds.Serve).
func Serve(ctx Context, req hooktool.Request, stdin hooktool.StdinFunc) hooktool.Response {
	r := Run(ctx, Invocation{Name: req.Command, Args: req.Args, Dir: req.Dir, Stdin: stdin})
	return hooktool.Response{Code: r.Code, Stdout: r.Stdout, Stderr: r.Stderr}
}

// tool is one hook tool: its usage line and implementation.
type tool struct {
	usage string
	run   func(c *call) error
}

// call is the state of one tool invocation.
type call struct {
	ctx    Context
	inv    Invocation
	flags  *flagSet
	stdout bytes.Buffer
	stderr bytes.Buffer

	formatName string // "" when the tool has no --format
	outputPath string
}

// Run executes one tool. It never panics on bad input and always returns
// a complete Result.
func Run(ctx Context, inv Invocation) Result {
	t, ok := tools[inv.Name]
	if !ok {
		return Result{Code: 1, Stderr: []byte(fmt.Sprintf("ERROR bad request: unknown command: %s\n", inv.Name))}
	}
	if inv.Now == nil {
		inv.Now = time.Now
	}
	c := &call{ctx: ctx, inv: inv, flags: newFlagSet()}
	err := t.run(c)
	code := 0
	switch {
	case err == nil:
	case errors.Is(err, errHelp):
		c.stdout.Reset()
		fmt.Fprintf(&c.stdout, "Usage: %s %s\n", inv.Name, t.usage)
		if h := c.flags.help(); h != "" {
			c.stdout.WriteString("\nOptions:\n" + h)
		}
	default:
		var ue *usageError
		code = 1
		if errors.As(err, &ue) {
			code = 2
		}
		fmt.Fprintf(&c.stderr, "ERROR %s\n", err)
	}
	return Result{Code: code, Stdout: c.stdout.Bytes(), Stderr: c.stderr.Bytes()}
}

// ToolNames returns the names Run accepts, sorted.
func ToolNames() []string {
	names := make([]string, 0, len(tools))
	for n := range tools {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// addFormat defines --format (default def, one of allowed) and -o/--output.
func (c *call) addFormat(def string, allowed ...string) {
	if len(allowed) == 0 {
		allowed = []string{formatJSON, formatSmart, formatYAML}
	}
	c.formatName = def
	c.flags.funcVar(func(s string) error {
		for _, a := range allowed {
			if s == a {
				c.formatName = s
				return nil
			}
		}
		return fmt.Errorf("unknown format %q", s)
	}, func() string { return def }, "Specify output format ("+strings.Join(allowed, "|")+")", "format")
	c.flags.stringVar(&c.outputPath, "Specify an output file", "o", "output")
}

// parse parses flags and returns positionals.
func (c *call) parse() ([]string, error) {
	return c.flags.parse(c.inv.Args)
}

// write formats v as the user asked and writes it to stdout or --output.
func (c *call) write(v any) error {
	data, err := format(c.formatName, v)
	if err != nil {
		return err
	}
	if len(data) > 0 {
		data = append(data, '\n')
	}
	if c.outputPath != "" {
		if err := os.WriteFile(c.path(c.outputPath), data, 0o644); err != nil {
			return fmt.Errorf("cannot write output: %w", err)
		}
		return nil
	}
	c.stdout.Write(data)
	return nil
}

// path resolves p against the caller's working directory.
func (c *call) path(p string) string {
	if filepath.IsAbs(p) || c.inv.Dir == "" {
		return p
	}
	return filepath.Join(c.inv.Dir, p)
}

// readFile reads path, or stdin for "-".
func (c *call) readFile(path string) ([]byte, error) {
	if path == "-" {
		if c.inv.Stdin == nil {
			return nil, errors.New("cannot read stdin: no stdin available")
		}
		data, err := c.inv.Stdin()
		if err != nil {
			return nil, err
		}
		return data, nil
	}
	data, err := os.ReadFile(c.path(path))
	if err != nil {
		return nil, fmt.Errorf("cannot read file: %w", err)
	}
	return data, nil
}

// relationFlag defines -r/--relation, defaulting to the hook's relation.
// The value is "<id>" or "<anything>:<id>"; unknown ids fail at parse time
// with "relation not found", as Juju does.
func (c *call) relationFlag(id *int) {
	*id = c.ctx.HookInfo().RelationID
	def := *id
	c.flags.funcVar(func(s string) error {
		n, err := parseRelationID(s)
		if err != nil {
			return err
		}
		if _, err := c.ctx.Relation(n); err != nil {
			if errors.Is(err, ErrRelationNotFound) {
				return ErrRelationNotFound
			}
			return err
		}
		*id = n
		return nil
	}, func() string {
		if def < 0 {
			return ""
		}
		if r, err := c.ctx.Relation(def); err == nil {
			return fmt.Sprintf("%s:%d", r.Endpoint, r.ID)
		}
		return strconv.Itoa(def)
	}, "Specify a relation by id", "r", "relation")
}

func parseRelationID(s string) (int, error) {
	if i := strings.LastIndex(s, ":"); i >= 0 {
		s = s[i+1:]
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, errors.New("invalid relation id")
	}
	return n, nil
}

// checkEmpty rejects extra positionals like juju/cmd's CheckEmpty.
func checkEmpty(args []string) error {
	if len(args) == 0 {
		return nil
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = strconv.Quote(a)
	}
	return usagef("unrecognized args: [%s]", strings.Join(quoted, " "))
}

// requireRelation rejects a missing relation id.
func requireRelation(id int) error {
	if id < 0 {
		return usagef("no relation id specified")
	}
	return nil
}

// applicationOf returns the application part of a unit name.
func applicationOf(unit string) string {
	app, _, _ := strings.Cut(unit, "/")
	return app
}

// isUnitName reports whether s looks like "app/N".
func isUnitName(s string) bool {
	app, num, ok := strings.Cut(s, "/")
	if !ok || app == "" || num == "" {
		return false
	}
	_, err := strconv.Atoi(num)
	return err == nil
}
