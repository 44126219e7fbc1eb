package chaos

import (
	"fmt"
	"sort"
	"strings"
)

// StackCount is how many goroutines of a dump wait in one place.
type StackCount struct {
	Where string // state and the innermost frames of the module's own code
	N     int
}

// GoroutineGroups groups a Go runtime goroutine dump (SIGQUIT, or
// panic) by where each goroutine waits: its state, its innermost frame in
// a function whose name starts with module (or, when none does, its
// innermost frame outside the runtime's own packages) and the function
// that created it, most numerous first. A leak shows as a large group
// the fresh process lacks.
func GoroutineGroups(dump, module string) []StackCount {
	counts := map[string]int{}
	for _, block := range strings.Split(dump, "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[0], "goroutine ") {
			continue
		}
		state := ""
		if i, j := strings.IndexByte(lines[0], '['), strings.IndexByte(lines[0], ']'); i >= 0 && j > i {
			state, _, _ = strings.Cut(lines[0][i+1:j], ",")
		}
		var funcs []string
		creator := ""
		for _, l := range lines[1:] {
			if c, ok := strings.CutPrefix(l, "created by "); ok {
				creator, _, _ = strings.Cut(c, " in goroutine ")
				continue
			}
			if strings.HasPrefix(l, "\t") {
				continue
			}
			f := l
			if k := strings.LastIndexByte(f, '('); k > 0 {
				f = f[:k]
			}
			funcs = append(funcs, f)
		}
		if len(funcs) == 0 {
			continue
		}
		where := ""
		for _, f := range funcs {
			if strings.HasPrefix(f, module) {
				where = f
				break
			}
		}
		for _, f := range funcs {
			if where == "" && !runtimeFrame(f) {
				where = f
			}
		}
		if where == "" {
			where = funcs[0]
		}
		if creator != "" {
			where += " (created by " + creator + ")"
		}
		counts["["+state+"] "+where]++
	}
	out := make([]StackCount, 0, len(counts))
	for w, n := range counts {
		out = append(out, StackCount{w, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Where < out[j].Where
	})
	return out
}

// runtimeFrame: a frame of the packages every goroutine waits in.
func runtimeFrame(f string) bool {
	for _, p := range []string{"runtime.", "sync.", "internal/", "time.Sleep"} {
		if strings.HasPrefix(f, p) {
			return true
		}
	}
	return false
}

// GroupGrowth lists the groups of after that outnumber the same group of
// base, by how much, largest first, at most n of them.
func GroupGrowth(after, base []StackCount, n int) []string {
	was := map[string]int{}
	for _, g := range base {
		was[g.Where] = g.N
	}
	type grow struct {
		where string
		by    int
	}
	var gs []grow
	for _, g := range after {
		if d := g.N - was[g.Where]; d > 0 {
			gs = append(gs, grow{g.Where, d})
		}
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].by != gs[j].by {
			return gs[i].by > gs[j].by
		}
		return gs[i].where < gs[j].where
	})
	var out []string
	for i, g := range gs {
		if i == n {
			break
		}
		out = append(out, fmt.Sprintf("+%d %s", g.by, g.where))
	}
	return out
}
