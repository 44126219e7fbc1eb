package cli

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/fullstatus"
)

// Subordinate units sit under their principal unit's `subordinates`;
// the subordinate application has `subordinate-to` and no units.
func TestBuildStatusNestsSubordinates(t *testing.T) {
	active := &apipb.StatusInfo{Current: "active"}
	res := &apipb.StatusResult{Model: &apipb.ModelInfo{Name: "default"},
		Applications: []*apipb.ApplicationStatus{
			{Name: "kv", CharmName: "kv", CharmUrl: "local:kv-0", Life: "alive", Units: []*apipb.UnitStatus{
				{Name: "kv/0", Machine: "0", Workload: active, Agent: active},
				{Name: "kv/1", Machine: "1", Workload: active, Agent: active}}},
			{Name: "logs", CharmName: "logs", CharmUrl: "local:logs-0", Life: "alive", Subordinate: true, SubordinateTo: []string{"kv"},
				Units: []*apipb.UnitStatus{
					{Name: "logs/0", Machine: "1", Principal: "kv/1", Workload: active, Agent: active},
					{Name: "logs/1", Machine: "0", Principal: "kv/0", Workload: active, Agent: active}}},
		}}
	doc := buildStatus(res)
	var buf bytes.Buffer
	if err := fullstatus.WriteJSON(&buf, doc); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Applications map[string]struct {
			SubordinateTo []string `json:"subordinate-to"`
			Units         map[string]struct {
				Subordinates map[string]json.RawMessage `json:"subordinates"`
			} `json:"units"`
		} `json:"applications"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	logs := got.Applications["logs"]
	if !reflect.DeepEqual(logs.SubordinateTo, []string{"kv"}) || logs.Units != nil {
		t.Errorf("logs: subordinate-to %v, units %v; want [kv] and no units key\n%s", logs.SubordinateTo, logs.Units, buf.String())
	}
	for principal, sub := range map[string]string{"kv/0": "logs/1", "kv/1": "logs/0"} {
		subs := got.Applications["kv"].Units[principal].Subordinates
		if _, ok := subs[sub]; !ok || len(subs) != 1 {
			t.Errorf("%s subordinates %v, want only %s", principal, subs, sub)
		}
	}
	if strings.Contains(buf.String(), `"subordinates": null`) {
		t.Errorf("null subordinates map in JSON:\n%s", buf.String())
	}
}
