package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// UnitInfo is one unit as `show-unit --format json` prints it.
type UnitInfo struct {
	WorkloadVersion string         `json:"workload-version,omitempty"`
	Machine         string         `json:"machine,omitempty"`
	OpenedPorts     []string       `json:"opened-ports"`
	PublicAddress   string         `json:"public-address,omitempty"`
	Address         string         `json:"address,omitempty"`
	Charm           string         `json:"charm"`
	Leader          bool           `json:"leader"`
	Life            string         `json:"life,omitempty"`
	RelationInfo    []RelationData `json:"relation-info,omitempty"`
}

// RelationData is one relation of a unit in show-unit.
type RelationData struct {
	RelationID      int                         `json:"relation-id"`
	Endpoint        string                      `json:"endpoint"`
	RelatedEndpoint string                      `json:"related-endpoint"`
	ApplicationData map[string]string           `json:"application-data"`
	CrossModel      bool                        `json:"cross-model"`
	LocalUnit       RelationUnitData            `json:"local-unit"`
	RelatedUnits    map[string]RelationUnitData `json:"related-units,omitempty"`
}

// RelationUnitData is one unit's membership and data bag.
type RelationUnitData struct {
	InScope bool              `json:"in-scope"`
	Data    map[string]string `json:"data"`
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// unitInfo builds a unit's show-unit document from status and relation data.
func unitInfo(app *apipb.ApplicationStatus, u *apipb.UnitStatus, rels []*apipb.UnitRelationInfo) UnitInfo {
	out := UnitInfo{WorkloadVersion: app.WorkloadVersion, Machine: u.Machine, OpenedPorts: []string{},
		PublicAddress: u.Address, Address: u.Address, Charm: app.CharmUrl, Leader: u.Leader, Life: u.Life}
	out.OpenedPorts = append(out.OpenedPorts, u.OpenPorts...)
	for _, r := range rels {
		rd := RelationData{RelationID: int(r.RelationId), Endpoint: r.Endpoint, RelatedEndpoint: r.RelatedEndpoint,
			ApplicationData: nonNil(r.ApplicationData),
			LocalUnit:       RelationUnitData{InScope: r.LocalInScope, Data: nonNil(r.LocalData)}}
		if len(r.RelatedUnits) > 0 {
			rd.RelatedUnits = map[string]RelationUnitData{}
			for _, ru := range r.RelatedUnits {
				rd.RelatedUnits[ru.Unit] = RelationUnitData{InScope: ru.InScope, Data: nonNil(ru.Data)}
			}
		}
		out.RelationInfo = append(out.RelationInfo, rd)
	}
	return out
}

func runShowUnit(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("show-unit")
	fs.SetArgs("<unit> [<unit>...]")
	format := fs.String("", "format", "yaml", "output format: json|yaml")
	model := fs.String("m", "model", "", "model of the unit")
	fs.String("", "endpoint", "", "accepted for compatibility")
	fs.String("", "related-unit", "", "accepted for compatibility")
	fs.Bool("", "app", false, "accepted for compatibility")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usage(errors.New("no unit given; see `troupe status`"))
	}
	if *format != "json" && *format != "yaml" {
		return usage(fmt.Errorf("invalid --format %q: use json or yaml", *format))
	}
	conn, m, err := connectModel(env, *model)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := conn.Status(ctx, &apipb.StatusRequest{Model: m})
	if err != nil {
		return apiError(err)
	}
	doc := map[string]UnitInfo{}
	for _, name := range rest {
		appName, _, _ := strings.Cut(name, "/")
		var app *apipb.ApplicationStatus
		var unit *apipb.UnitStatus
		for _, a := range st.Applications {
			if a.Name != appName {
				continue
			}
			app = a
			for _, u := range a.Units {
				if u.Name == name {
					unit = u
				}
			}
		}
		if unit == nil {
			return fmt.Errorf("unit %q not found; see `troupe status`", name)
		}
		rels, err := conn.ShowUnitRelations(ctx, &apipb.ShowUnitRelationsRequest{Model: m, Unit: name})
		if err != nil {
			return apiError(err)
		}
		doc[name] = unitInfo(app, unit, rels.Relations)
	}
	if *format == "json" {
		return json.NewEncoder(env.Stdout).Encode(doc)
	}
	return writeYAML(env.Stdout, doc)
}
