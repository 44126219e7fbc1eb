package observability_test

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/controller/ctlmetrics"
	"github.com/troupe-dev/troupe/internal/agentmetrics"
)

type panel struct {
	Type    string  `json:"type"`
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

var metricRE = regexp.MustCompile(`\btroupe_[a-z0-9_]+`)

// family maps a series name a query uses to its family: histograms are
// queried through their _bucket, _sum and _count series.
func family(series string, registered map[string]bool) string {
	if registered[series] {
		return series
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(series, suffix); ok && registered[base] {
			return base
		}
	}
	return series
}

// TestDashboardMatchesRegisteredFamilies: the dashboard is valid JSON,
// every metric it queries is a family the controller or a machine agent
// registers, and every registered family is shown on some panel.
func TestDashboardMatchesRegisteredFamilies(t *testing.T) {
	data, err := os.ReadFile("grafana-troupe.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string  `json:"title"`
		UID    string  `json:"uid"`
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("grafana-troupe.json is not valid JSON: %v", err)
	}
	if dash.Title == "" || dash.UID == "" {
		t.Errorf("dashboard needs a title and a uid")
	}
	registered := map[string]bool{}
	for _, n := range append(ctlmetrics.New().Registry().Names(), agentmetrics.New(nil).Registry().Names()...) {
		registered[n] = true
	}
	if len(registered) == 0 {
		t.Fatal("no families registered")
	}
	used := map[string]bool{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				names := metricRE.FindAllString(tg.Expr, -1)
				if len(names) == 0 {
					t.Errorf("panel %q: query %q uses no troupe_ metric", p.Title, tg.Expr)
				}
				for _, n := range names {
					f := family(n, registered)
					if !registered[f] {
						t.Errorf("panel %q queries %s, which no code registers", p.Title, n)
					}
					used[f] = true
				}
			}
		}
	}
	walk(dash.Panels)
	var missing []string
	for n := range registered {
		if !used[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("families registered but on no panel: %v", missing)
	}
}
