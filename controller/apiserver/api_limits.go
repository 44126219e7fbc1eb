package apiserver

import (
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/limits"
)

// checkLimits applies internal/limits to what a request carries, before
// its handler runs (the hook tools check the same limits, so a charm
// meets them there first; this is for agents that do not). Relation
// bags are bounded per change here and as a merged bag by the hook tool.
// Whole messages are bounded by gRPC (api.MaxMessageSize). Two are not
// refused, so an agent is never stuck retrying them: too large action
// results fail the task with the limit's message (finishTask), and an
// over-long log line is truncated (truncateLogLines).
func checkLimits(req proto.Message) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	statusMsg := func(what string, st *apipb.StatusInfo) {
		if st != nil {
			add(limits.Check(what+" status message", len(st.Message), limits.StatusMessage))
		}
	}
	secret := func(content map[string]string) {
		for k, v := range content {
			add(limits.Check(fmt.Sprintf("secret content for key %q", k), len(v), limits.SecretValue))
		}
		add(limits.Check("secret content", limits.MapSize(content), limits.SecretContent))
	}
	switch r := req.(type) {
	case *apipb.CommitHookRequest:
		for _, rc := range r.Relations {
			add(limits.Check(fmt.Sprintf("relation %d unit data", rc.RelationId), limits.MapSize(rc.Unit), limits.RelationBag))
			add(limits.Check(fmt.Sprintf("relation %d application data", rc.RelationId), limits.MapSize(rc.Application), limits.RelationBag))
		}
		for _, sc := range r.Secrets {
			secret(sc.Content)
		}
	case *apipb.SetLeaderSettingsRequest:
		add(limits.Check("leader settings", limits.MapSize(r.Settings), limits.RelationBag))
	case *apipb.SetUnitStatusRequest:
		statusMsg("workload", r.Workload)
		statusMsg("agent", r.Agent)
		statusMsg("application", r.Application)
	case *apipb.SetMachineStatusRequest:
		statusMsg("machine", r.Status)
	case *apipb.LogActionRequest:
		add(limits.Check("action log message", len(r.Message), limits.LogLine))
	case *apipb.AddSecretRequest:
		secret(r.Content)
	case *apipb.UpdateSecretRequest:
		secret(r.Content)
	}
	if len(errs) == 0 {
		return nil
	}
	return status.Error(codes.InvalidArgument, errs[0].Error())
}

// truncateLogLines cuts log lines over limits.LogLine, saying so.
func truncateLogLines(recs []*apipb.LogRecord) {
	for _, r := range recs {
		if n := len(r.Message); n > limits.LogLine {
			r.Message = strings.ToValidUTF8(r.Message[:limits.LogLine], "") + fmt.Sprintf(" [truncated: line of %d bytes, limit %d]", n, limits.LogLine)
		}
	}
}

// resultsTooLarge is the failure recorded for a task whose results are
// over limits.ActionResults; nil when they fit.
func resultsTooLarge(resultsJSON []byte) error {
	return limits.Check("action results", len(resultsJSON), limits.ActionResults)
}
