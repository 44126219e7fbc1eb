package fullstatus

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func tabular(t *testing.T, s *Status, opts TabularOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteTabular(&b, s, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestTabularColorKeepsAlignment checks that colouring only adds escape
// codes: stripped of them, the output equals the uncoloured one.
func TestTabularColorKeepsAlignment(t *testing.T) {
	opts := TabularOptions{Integrations: true}
	plainOut := tabular(t, fullDoc(), opts)
	opts.Color = true
	colored := tabular(t, fullDoc(), opts)
	if colored == plainOut {
		t.Fatal("Color: true produced no escape codes")
	}
	stripped := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(colored, "")
	if stripped != plainOut {
		t.Errorf("coloured output, stripped, differs from plain output:\n%s\nvs\n%s", stripped, plainOut)
	}
}

func TestTabularShape(t *testing.T) {
	out := tabular(t, fullDoc(), TabularOptions{Integrations: true})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var headers []string
	for i, l := range lines {
		if l != strings.TrimRight(l, " \t") {
			t.Errorf("line %d has trailing whitespace: %q", i+1, l)
		}
		if l == "" {
			if i+1 >= len(lines) || lines[i+1] == "" {
				t.Errorf("blank line %d not followed by a section header", i+1)
			}
			continue
		}
		if i == 0 || lines[i-1] == "" {
			headers = append(headers, strings.Fields(l)[0])
		}
	}
	want := []string{"Model", "SAAS", "App", "Unit", "Machine", "Offer", "Integration"}
	if strings.Join(headers, " ") != strings.Join(want, " ") {
		t.Errorf("sections = %v, want %v", headers, want)
	}
	for _, header := range []string{
		"App         Version          Status  Scale  Charm       Channel        Rev  Exposed  Message",
		"Unit           Workload  Agent      Machine  Public address  Ports           Message",
		"Machine  State    Address    Inst id              Base          AZ     Message",
	} {
		if !strings.Contains(out, header+"\n") {
			t.Errorf("missing header line %q", header)
		}
	}
	if strings.Contains(tabular(t, fullDoc(), TabularOptions{}), "Integration provider") {
		t.Error("Integration section shown without Integrations")
	}
}

func TestTabularEmptyModel(t *testing.T) {
	s := emptyDoc()
	s.Integrations = []Integration{}
	got := tabular(t, s, TabularOptions{Integrations: true, Color: true})
	want := "Model  Controller  Cloud/Region  Version\nm      c           localhost     3.6.11\n"
	if got != want {
		t.Errorf("WriteTabular(empty) =\n%q\nwant\n%q", got, want)
	}
}

func TestTabularUnitOrderAndNesting(t *testing.T) {
	unit := func(subs map[string]Unit) Unit {
		return Unit{WorkloadStatus: &StatusInfo{Current: "active"}, Subordinates: subs}
	}
	s := emptyDoc()
	s.Applications = map[string]Application{
		"app": {Units: map[string]Unit{
			"app/10": unit(nil),
			"app/2":  unit(map[string]Unit{"sub/11": unit(nil), "sub/3": unit(nil)}),
			"app/1":  {Leader: true},
		}},
		"sub": {SubordinateTo: []string{"app"}},
	}
	out := tabular(t, s, TabularOptions{})
	want := "Unit      Workload  Agent  Machine  Public address  Ports  Message\n" +
		"app/1*\n" +
		"app/2     active\n" +
		"  sub/3   active\n" +
		"  sub/11  active\n" +
		"app/10    active\n"
	if !strings.Contains(out, want) {
		t.Errorf("unit section not as expected:\n%s\nwant it to contain:\n%s", out, want)
	}
	if !strings.Contains(out, "\nsub                       2                    0  no\n") {
		t.Errorf("subordinate app scale should count its units under principals:\n%s", out)
	}
}
