package fullstatus

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TabularOptions selects optional parts of the tabular view.
type TabularOptions struct {
	// Integrations adds the Integration section (`--integrations`,
	// `--relations`).
	Integrations bool
	// Color wraps status words in ANSI colours (green for healthy, yellow
	// for in-progress or unknown, red for failed or blocked). Alignment
	// ignores the escape codes.
	Color bool
}

// Version columns longer than these are cut and end in "...", as in Juju.
const (
	iaasMaxVersionWidth = 15
	caasMaxVersionWidth = 30
)

// WriteTabular writes s in the layout of Juju 3.6's `juju status`:
//
//	Model  Controller  Cloud/Region  Version  [SLA]  [Timestamp]  [Notes]
//	SAAS   Status  Store  URL                          (when consuming offers)
//	App    Version  Status  Scale  Charm  Channel  Rev  Exposed  Message
//	Unit   Workload  Agent  Machine  Public address  Ports  Message
//	Machine  State  Address  Inst id  Base  AZ  Message  (machine models)
//	Offer  Application  Charm  Rev  Connected  Endpoint  Interface  Role
//	Integration provider  Requirer  Interface  Type  Message  (opts.Integrations)
//
// Sections are separated by a blank line and left out when empty, except
// Model. Within a section, columns are aligned with two spaces between
// them; Scale and Rev are right-aligned; trailing spaces are trimmed. Rows
// are in natural order (app/2 before app/10). The leader unit is marked
// with "*" after its name; subordinate units follow their principal,
// indented two spaces per level; containers follow their host machine.
// Kubernetes models (Model.Type "caas") show an Address column for apps and
// units and no Machine section.
func WriteTabular(w io.Writer, s *Status, opts TabularOptions) error {
	p := &printer{color: opts.Color}
	caas := s.Model.Type == "caas"
	p.modelSection(s)
	if len(s.ApplicationEndpoints) > 0 {
		p.saasSection(s)
	}
	if len(s.Applications) > 0 {
		p.appSection(s, caas)
		p.unitSection(s, caas)
	}
	if !caas && len(s.Machines) > 0 {
		p.machineSection(s)
	}
	if len(s.Offers) > 0 {
		p.offerSection(s)
	}
	if opts.Integrations && len(s.Integrations) > 0 {
		p.integrationSection(s)
	}
	if _, err := io.WriteString(w, p.out.String()); err != nil {
		return fmt.Errorf("cannot write status: %w", err)
	}
	return nil
}

// cell is one table cell: text, shown in color (an ANSI SGR code, or ""),
// then suffix, never coloured.
type cell struct {
	text   string
	color  string
	suffix string
}

// width is the visible width of the cell.
func (c cell) width() int { return utf8.RuneCountInString(c.text + c.suffix) }

func plain(texts ...string) []cell {
	cells := make([]cell, len(texts))
	for i, t := range texts {
		cells[i] = cell{text: t}
	}
	return cells
}

// printer accumulates sections of aligned columns.
type printer struct {
	color    bool
	out      strings.Builder
	sections int
}

// table writes one section: header and rows aligned column by column.
// Columns listed in right are right-aligned.
func (p *printer) table(header []string, rows [][]cell, right ...int) {
	if p.sections > 0 {
		p.out.WriteString("\n")
	}
	p.sections++
	all := append([][]cell{plain(header...)}, rows...)
	var widths []int
	for _, row := range all {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], c.width())
		}
	}
	isRight := map[int]bool{}
	for _, r := range right {
		isRight[r] = true
	}
	for _, row := range all {
		var line strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-c.width())
			text := c.text
			if p.color && c.color != "" && text != "" {
				text = "\x1b[" + c.color + "m" + text + "\x1b[0m"
			}
			text += c.suffix
			if isRight[i] {
				line.WriteString(pad + text)
			} else {
				line.WriteString(text + pad)
			}
			if i < len(row)-1 {
				line.WriteString("  ")
			}
		}
		p.out.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

// ANSI colours for status words.
const (
	green  = "32"
	yellow = "33"
	red    = "31"
)

var statusColors = map[string]string{
	"active": green, "idle": green, "started": green, "running": green,
	"available": green, "joined": green, "attached": green, "completed": green,
	"executing": green,

	"maintenance": yellow, "waiting": yellow, "allocating": yellow, "pending": yellow,
	"rebooting": yellow, "lost": yellow, "unknown": yellow, "stopped": yellow,
	"joining": yellow, "suspending": yellow, "suspended": yellow, "busy": yellow,
	"attaching": yellow, "detaching": yellow, "detached": yellow, "destroying": yellow,
	"terminated": yellow,

	"error": red, "blocked": red, "failed": red, "down": red, "broken": red,
	"provisioning error": red,
}

func statusCell(s string) cell { return cell{text: s, color: statusColors[s]} }

func current(si *StatusInfo) string {
	if si == nil {
		return ""
	}
	return si.Current
}

func message(si *StatusInfo) string {
	if si == nil {
		return ""
	}
	return si.Message
}

func (p *printer) modelSection(s *Status) {
	m := s.Model
	cloudRegion := m.Cloud
	if m.Region != "" {
		cloudRegion += "/" + m.Region
	}
	header := []string{"Model", "Controller", "Cloud/Region", "Version"}
	values := []string{m.Name, m.Controller, cloudRegion, m.Version}
	if m.SLA != "" {
		header = append(header, "SLA")
		values = append(values, m.SLA)
	}
	if s.Controller != nil && s.Controller.Timestamp != "" {
		header = append(header, "Timestamp")
		values = append(values, s.Controller.Timestamp)
	}
	notes := message(m.ModelStatus)
	if notes == "" && m.UpgradeAvailable != "" {
		notes = "upgrade available: " + m.UpgradeAvailable
	}
	if notes != "" {
		header = append(header, "Notes")
		values = append(values, notes)
	}
	p.table(header, [][]cell{plain(values...)})
}

func (p *printer) saasSection(s *Status) {
	var rows [][]cell
	for _, name := range sortedKeys(s.ApplicationEndpoints) {
		r := s.ApplicationEndpoints[name]
		if r.StatusError != "" {
			rows = append(rows, []cell{{text: name}, statusCell("failed"), {}, {text: r.StatusError}})
			continue
		}
		store, url := "local", r.URL
		if src, rest, ok := strings.Cut(r.URL, ":"); ok {
			store, url = src, rest
		}
		rows = append(rows, []cell{{text: name}, statusCell(current(r.ApplicationStatus)), {text: store}, {text: url}})
	}
	p.table([]string{"SAAS", "Status", "Store", "URL"}, rows)
}

// appScale is the Scale column: the number of units shown (for a
// subordinate app, its units under every principal). On Kubernetes a
// desired Scale that differs is shown as "units/scale".
func appScale(s *Status, name string, app Application, caas bool) string {
	n := len(app.Units)
	if len(app.SubordinateTo) > 0 {
		n = 0
		for _, principal := range app.SubordinateTo {
			for _, u := range s.Applications[principal].Units {
				n += countSubordinates(u, name)
			}
		}
	}
	if caas && app.Scale != n {
		return fmt.Sprintf("%d/%d", n, app.Scale)
	}
	return strconv.Itoa(n)
}

func countSubordinates(u Unit, app string) int {
	n := 0
	for name, sub := range u.Subordinates {
		if strings.HasPrefix(name, app+"/") {
			n++
		}
		n += countSubordinates(sub, app)
	}
	return n
}

func (p *printer) appSection(s *Status, caas bool) {
	maxVersion := iaasMaxVersionWidth
	header := []string{"App", "Version", "Status", "Scale", "Charm", "Channel", "Rev", "Exposed", "Message"}
	if caas {
		maxVersion = caasMaxVersionWidth
		header = []string{"App", "Version", "Status", "Scale", "Charm", "Channel", "Rev", "Address", "Exposed", "Message"}
	}
	var rows [][]cell
	for _, name := range sortedKeys(s.Applications) {
		app := s.Applications[name]
		if app.StatusError != "" {
			row := []cell{{text: name}, {}, statusCell("failed"), {}, {text: "<failed>"}, {}, {text: "-1"}}
			if caas {
				row = append(row, cell{})
			}
			rows = append(rows, append(row, cell{}, cell{text: app.StatusError}))
			continue
		}
		version, _, _ := strings.Cut(app.Version, "\n")
		if utf8.RuneCountInString(version) > maxVersion {
			version = string([]rune(version)[:maxVersion-3]) + "..."
		}
		exposed := "no"
		if app.Exposed {
			exposed = "yes"
		}
		row := []cell{
			{text: name}, {text: version}, statusCell(current(app.ApplicationStatus)),
			{text: appScale(s, name, app, caas)}, {text: app.CharmName}, {text: app.CharmChannel},
			{text: strconv.Itoa(app.CharmRev)},
		}
		if caas {
			row = append(row, cell{text: app.Address})
		}
		row = append(row, cell{text: exposed}, cell{text: message(app.ApplicationStatus)})
		rows = append(rows, row)
	}
	p.table(header, rows, 3, 6)
}

var (
	runningHookRE   = regexp.MustCompile(`^running (\S+) hook`)
	runningActionRE = regexp.MustCompile(`^running action (.+)$`)
)

// agentDoing names the hook or action an executing agent runs, from its
// message ("running config-changed hook", "running action backup").
func agentDoing(agent *StatusInfo) string {
	if current(agent) != "executing" {
		return ""
	}
	if m := runningHookRE.FindStringSubmatch(agent.Message); m != nil {
		return m[1]
	}
	if m := runningActionRE.FindStringSubmatch(agent.Message); m != nil {
		return m[1]
	}
	return ""
}

func (p *printer) unitSection(s *Status, caas bool) {
	units := map[string]Unit{}
	for _, app := range s.Applications {
		for name, u := range app.Units {
			units[name] = u
		}
	}
	if len(units) == 0 {
		return
	}
	var rows [][]cell
	var add func(name string, u Unit, level int)
	add = func(name string, u Unit, level int) {
		label := strings.Repeat(" ", 2*level) + name
		if u.StatusError != "" {
			row := []cell{{text: label}, statusCell("failed"), {}, {}, {}}
			if !caas {
				row = append(row, cell{})
			}
			rows = append(rows, append(row, cell{text: u.StatusError}))
			return
		}
		if u.Leader {
			label += "*"
		}
		msg := message(u.WorkloadStatus)
		if current(u.JujuStatus) == "allocating" && msg == "" {
			msg = message(u.JujuStatus)
		}
		if doing := agentDoing(u.JujuStatus); doing != "" {
			msg = strings.TrimRight(fmt.Sprintf("(%s) %s", doing, msg), " ")
		}
		row := []cell{{text: label}, statusCell(current(u.WorkloadStatus)), statusCell(current(u.JujuStatus))}
		if caas {
			row = append(row, cell{text: u.Address})
		} else {
			row = append(row, cell{text: u.Machine}, cell{text: u.PublicAddress})
		}
		row = append(row, cell{text: strings.Join(u.OpenPorts, ",")}, cell{text: msg})
		rows = append(rows, row)
		for _, sub := range sortedKeys(u.Subordinates) {
			add(sub, u.Subordinates[sub], level+1)
		}
	}
	for _, name := range sortedKeys(units) {
		add(name, units[name], 0)
	}
	header := []string{"Unit", "Workload", "Agent", "Machine", "Public address", "Ports", "Message"}
	if caas {
		header = []string{"Unit", "Workload", "Agent", "Address", "Ports", "Message"}
	}
	p.table(header, rows)
}

// availabilityZone extracts availability-zone=Z from a hardware string.
func availabilityZone(hardware string) string {
	for _, f := range strings.Fields(hardware) {
		if z, ok := strings.CutPrefix(f, "availability-zone="); ok {
			return z
		}
	}
	return ""
}

func (p *printer) machineSection(s *Status) {
	var rows [][]cell
	var add func(id string, m Machine)
	add = func(id string, m Machine) {
		if m.StatusError != "" {
			rows = append(rows, []cell{{text: id}, statusCell("failed"), {}, {}, {}, {}, {text: m.StatusError}})
			return
		}
		state, msg := current(m.JujuStatus), message(m.MachineStatus)
		// A failed modification (e.g. an LXD profile change) outranks the
		// agent and instance status, as in Juju.
		if current(m.ModificationStatus) == "error" {
			state, msg = "error", message(m.ModificationStatus)
		}
		instID := m.InstanceID
		if m.DisplayName != "" {
			instID = m.DisplayName
		}
		base := ""
		if m.Base != nil {
			base = m.Base.Name + "@" + m.Base.Channel
		}
		rows = append(rows, []cell{
			{text: id}, statusCell(state), {text: m.DNSName}, {text: instID},
			{text: base}, {text: availabilityZone(m.Hardware)}, {text: msg},
		})
		for _, c := range sortedKeys(m.Containers) {
			add(c, m.Containers[c])
		}
	}
	for _, id := range sortedKeys(s.Machines) {
		add(id, s.Machines[id])
	}
	p.table([]string{"Machine", "State", "Address", "Inst id", "Base", "AZ", "Message"}, rows)
}

// charmNameRev splits a charm URL such as "ch:amd64/mysql-5",
// "local:app-0" or "mysql" into its name and revision ("" when absent).
func charmNameRev(url string) (name, rev string) {
	if _, rest, ok := strings.Cut(url, ":"); ok {
		url = rest
	}
	if i := strings.LastIndex(url, "/"); i >= 0 {
		url = url[i+1:]
	}
	if i := strings.LastIndex(url, "-"); i >= 0 {
		if _, err := strconv.Atoi(url[i+1:]); err == nil {
			return url[:i], url[i+1:]
		}
	}
	return url, ""
}

func (p *printer) offerSection(s *Status) {
	var rows [][]cell
	for _, name := range sortedKeys(s.Offers) {
		o := s.Offers[name]
		if o.StatusError != "" {
			rows = append(rows, []cell{{text: name}, {}, {}, {}, {}, {}, {}, {text: o.StatusError}})
			continue
		}
		endpoints := sortedKeys(o.Endpoints)
		if len(endpoints) == 0 {
			endpoints = []string{""}
		}
		charm, rev := charmNameRev(o.Charm)
		for i, ep := range endpoints {
			e := o.Endpoints[ep]
			if i == 0 {
				connected := fmt.Sprintf("%d/%d", o.ActiveConnectedCount, o.TotalConnectedCount)
				rows = append(rows, plain(name, o.Application, charm, rev, connected, ep, e.Interface, e.Role))
				continue
			}
			// Later endpoints of the same offer show only endpoint columns.
			rows = append(rows, plain("", "", "", "", "", ep, e.Interface, e.Role))
		}
	}
	p.table([]string{"Offer", "Application", "Charm", "Rev", "Connected", "Endpoint", "Interface", "Role"}, rows)
}

func (p *printer) integrationSection(s *Status) {
	rels := append([]Integration(nil), s.Integrations...)
	sort.SliceStable(rels, func(i, j int) bool {
		if rels[i].Provider != rels[j].Provider {
			return NaturalLess(rels[i].Provider, rels[j].Provider)
		}
		return NaturalLess(rels[i].Requirer, rels[j].Requirer)
	})
	var rows [][]cell
	for _, r := range rels {
		// Like Juju, the Message column is empty for a healthy (joined)
		// relation and otherwise shows its status and message.
		msg := cell{}
		if r.Status != "" && r.Status != "joined" {
			msg = statusCell(r.Status)
			if r.Message != "" {
				msg.suffix = " - " + r.Message
			}
		}
		rows = append(rows, []cell{{text: r.Provider}, {text: r.Requirer}, {text: r.Interface}, {text: r.Type}, msg})
	}
	p.table([]string{"Integration provider", "Requirer", "Interface", "Type", "Message"}, rows)
}
