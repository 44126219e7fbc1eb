package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/fullstatus"
)

func runStatus(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("status")
	format := fs.String("", "format", "tabular", "output format: tabular|json|yaml")
	model := fs.String("m", "model", "", "model to show")
	integrations := new(bool)
	fs.BoolVar(integrations, "", "integrations", false, "show the integrations section")
	fs.BoolVar(integrations, "", "relations", false, "alias of --integrations")
	withStorage := fs.Bool("", "storage", false, "add the storage table to the tabular view")
	watch := fs.Duration("", "watch", 0, "print status again every interval (e.g. 2s) until interrupted")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *watch < 0 || (*watch > 0 && *watch < 100*time.Millisecond) {
		return usage(fmt.Errorf("invalid --watch %s: give an interval of at least 100ms, e.g. --watch 2s", *watch))
	}
	switch *format {
	case "tabular", "json", "yaml":
	default:
		return usage(fmt.Errorf("invalid --format %q: use tabular, json or yaml", *format))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	frame := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := conn.Status(ctx, &apipb.StatusRequest{Model: m})
		if err != nil {
			return apiError(err)
		}
		doc := buildStatus(res)
		switch *format {
		case "json":
			return fullstatus.WriteJSON(env.Stdout, doc)
		case "yaml":
			return fullstatus.WriteYAML(env.Stdout, doc)
		}
		if err := fullstatus.WriteTabular(env.Stdout, doc, fullstatus.TabularOptions{Integrations: *integrations}); err != nil || !*withStorage || doc.Storage == nil {
			return err
		}
		fmt.Fprintln(env.Stdout)
		return fullstatus.WriteStorageTabular(env.Stdout, doc.Storage)
	}
	if *watch > 0 {
		return watchStatus(env, *watch, frame)
	}
	return frame()
}

func info(s *apipb.StatusInfo) *fullstatus.StatusInfo {
	if s == nil || s.Current == "" {
		return nil
	}
	out := &fullstatus.StatusInfo{Current: s.Current, Message: s.Message}
	if s.SinceUnixNano != 0 {
		out.Since = fullstatus.FormatSince(time.Unix(0, s.SinceUnixNano))
	}
	return out
}

// buildStatus turns the API's status into Juju's status document.
func buildStatus(res *apipb.StatusResult) *fullstatus.Status {
	doc := &fullstatus.Status{
		Model: fullstatus.ModelStatus{Name: res.Model.GetName(), Type: "iaas", Controller: res.ControllerName,
			Cloud: res.Model.GetCloud(), Version: res.Version, ModelStatus: info(res.Model.GetStatus())},
		Machines:     map[string]fullstatus.Machine{},
		Applications: map[string]fullstatus.Application{},
		Controller:   &fullstatus.ControllerStatus{Timestamp: fullstatus.FormatTimestamp(time.Now())},
	}
	for _, m := range res.Machines {
		mc := fullstatus.Machine{JujuStatus: info(m.Agent), Hostname: m.Hostname, InstanceID: m.InstanceId,
			MachineStatus: info(m.Instance), IPAddresses: m.Addresses, Constraints: m.Constraints, Hardware: m.Hardware}
		if len(m.Addresses) > 0 {
			mc.DNSName = m.Addresses[0]
		}
		if m.BaseName != "" {
			mc.Base = &fullstatus.Base{Name: m.BaseName, Channel: m.BaseChannel}
		}
		doc.Machines[m.Id] = mc
	}
	for _, a := range res.Applications {
		app := fullstatus.Application{Charm: a.CharmUrl, CharmOrigin: "local", CharmName: a.CharmName, CharmRev: int(a.CharmRev),
			CharmVersion: a.CharmVersion, Version: a.WorkloadVersion, Life: lifeIfNotAlive(a.Life), Scale: len(a.Units),
			Units: map[string]fullstatus.Unit{}}
		if a.BaseName != "" {
			app.Base = &fullstatus.Base{Name: a.BaseName, Channel: a.BaseChannel}
		}
		app.SubordinateTo = a.SubordinateTo
		var workloads []fullstatus.StatusInfo
		for _, u := range a.Units {
			us := fullstatus.Unit{WorkloadStatus: info(u.Workload), JujuStatus: info(u.Agent), Leader: u.Leader,
				Machine: u.Machine, PublicAddress: u.Address, Address: u.Address, OpenPorts: u.OpenPorts}
			if u.Principal == "" {
				app.Units[u.Name] = us
			}
			if us.WorkloadStatus != nil {
				workloads = append(workloads, *us.WorkloadStatus)
			}
		}
		if st := info(a.Status); st != nil {
			app.ApplicationStatus = st
		} else if len(workloads) > 0 {
			d := fullstatus.DeriveApplicationStatus(workloads)
			app.ApplicationStatus = &d
		}
		if a.Subordinate {
			app.Units, app.Scale = nil, 0
		}
		doc.Applications[a.Name] = app
	}
	nestSubordinates(doc, res.Applications)
	addRelations(doc, res.Relations)
	addCrossModel(doc, res)
	doc.Storage = buildStorage(res.Storage) // cmd_storage.go
	return doc
}

// addRelations fills each application's `relations` (endpoint → related
// applications, as Juju's status shows them) and the tabular Integration
// section.
func addRelations(doc *fullstatus.Status, rels []*apipb.RelationStatus) {
	for _, r := range rels {
		if r.Life == "dead" {
			continue
		}
		for _, e := range r.Endpoints {
			app, ok := doc.Applications[e.Application]
			if !ok {
				continue
			}
			remote := e.Application
			for _, o := range r.Endpoints {
				if o.Application != e.Application {
					remote = o.Application
				}
			}
			if app.Relations == nil {
				app.Relations = map[string][]fullstatus.RelatedApp{}
			}
			app.Relations[e.Name] = append(app.Relations[e.Name], fullstatus.RelatedApp{RelatedApplication: remote, Interface: e.Interface, Scope: e.Scope})
			doc.Applications[e.Application] = app
		}
		in := fullstatus.Integration{Interface: r.Interface, Status: "joined"}
		if r.Life == "dying" {
			in.Status = "broken"
		}
		switch len(r.Endpoints) {
		case 1:
			in.Provider, in.Requirer, in.Type = r.Endpoints[0].Application+":"+r.Endpoints[0].Name, r.Endpoints[0].Application+":"+r.Endpoints[0].Name, "peer"
		case 2:
			p, q := r.Endpoints[0], r.Endpoints[1]
			if p.Role == "requirer" {
				p, q = q, p
			}
			in.Provider, in.Requirer, in.Type = p.Application+":"+p.Name, q.Application+":"+q.Name, "regular"
			if p.Scope == "container" || q.Scope == "container" {
				in.Type = "subordinate"
			}
		}
		doc.Integrations = append(doc.Integrations, in)
	}
}

func lifeIfNotAlive(l string) string {
	if l == "alive" {
		return ""
	}
	return l
}
