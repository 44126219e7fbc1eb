package apiserver

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/limits"
)

func TestCheckLimits(t *testing.T) {
	big := func(n int) string { return strings.Repeat("x", n+1) }
	cases := []struct {
		req  proto.Message
		want string // "" allowed
	}{
		{&apipb.SetUnitStatusRequest{Workload: &apipb.StatusInfo{Message: "ok"}}, ""},
		{&apipb.SetUnitStatusRequest{Workload: &apipb.StatusInfo{Message: big(limits.StatusMessage)}}, "workload status message too large (16385 bytes, limit 16384)"},
		{&apipb.CommitHookRequest{Relations: []*apipb.RelationSettingsChange{{RelationId: 4, Unit: map[string]string{"k": big(limits.RelationBag)}}}},
			"relation 4 unit data too large (1048578 bytes, limit 1048576)"},
		{&apipb.CommitHookRequest{Relations: []*apipb.RelationSettingsChange{{RelationId: 4, Application: map[string]string{"k": "v"}}}}, ""},
		{&apipb.SetLeaderSettingsRequest{Settings: map[string]string{"k": big(limits.RelationBag)}}, "leader settings too large"},
		{&apipb.AddSecretRequest{Content: map[string]string{"k": big(limits.SecretValue)}}, `secret content for key "k" too large (8193 bytes, limit 8192)`},
		{&apipb.CommitHookRequest{Secrets: []*apipb.SecretChange{{Content: map[string]string{"k": big(limits.SecretValue)}}}}, `secret content for key "k" too large`},
		{&apipb.LogActionRequest{Message: big(limits.LogLine)}, "action log message too large"},
		{&apipb.StatusRequest{}, ""},
	}
	for _, c := range cases {
		err := checkLimits(c.req)
		if c.want == "" {
			if err != nil {
				t.Errorf("%T: %v, want allowed", c.req, err)
			}
			continue
		}
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%T: %v, want InvalidArgument %q", c.req, err, c.want)
		}
	}
}

func TestOverLimitLogsAndResults(t *testing.T) {
	recs := []*apipb.LogRecord{{Message: "short"}, {Message: strings.Repeat("é", limits.LogLine)}}
	truncateLogLines(recs)
	if recs[0].Message != "short" {
		t.Errorf("short line changed: %q", recs[0].Message)
	}
	want := " [truncated: line of 131072 bytes, limit 65536]"
	if !strings.HasSuffix(recs[1].Message, want) || len(recs[1].Message) > limits.LogLine+len(want) {
		t.Errorf("long line: %d bytes ending %q", len(recs[1].Message), recs[1].Message[len(recs[1].Message)-60:])
	}
	if err := resultsTooLarge(make([]byte, limits.ActionResults)); err != nil {
		t.Errorf("results at the limit: %v", err)
	}
	if err := resultsTooLarge(make([]byte, limits.ActionResults+1)); err == nil || err.Error() != "action results too large (1048577 bytes, limit 1048576)" {
		t.Errorf("results over the limit: %v", err)
	}
}
