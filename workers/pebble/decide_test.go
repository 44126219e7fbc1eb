package pebble

import (
	"testing"

	"github.com/canonical/pebble/client"

	"github.com/troupe-dev/troupe/workers/uniter/hook"
)

func TestNoticeHook(t *testing.T) {
	check := func(kind string) *client.Notice {
		return &client.Notice{ID: "9", Type: client.ChangeUpdateNotice, Key: "42",
			LastData: map[string]string{"kind": kind, "check-name": "alive"}}
	}
	for _, tc := range []struct {
		name   string
		notice *client.Notice
		status string
		want   hook.Info
		ok     bool
	}{
		{"custom", &client.Notice{ID: "7", Type: client.CustomNotice, Key: "example.com/ping"}, "",
			hook.Info{Kind: hook.PebbleCustomNotice, WorkloadName: "web", NoticeID: "7", NoticeType: "custom", NoticeKey: "example.com/ping"}, true},
		{"check failed", check("perform-check"), "Error",
			hook.Info{Kind: hook.PebbleCheckFailed, WorkloadName: "web", CheckName: "alive"}, true},
		{"check started", check("perform-check"), "Doing", hook.Info{}, false},
		{"check aborted", check("perform-check"), "Hold", hook.Info{}, false},
		{"check recovered", check("recover-check"), "Done",
			hook.Info{Kind: hook.PebbleCheckRecovered, WorkloadName: "web", CheckName: "alive"}, true},
		{"still recovering", check("recover-check"), "Doing", hook.Info{}, false},
		{"other change", &client.Notice{Type: client.ChangeUpdateNotice, Key: "3", LastData: map[string]string{"kind": "replan"}}, "Done", hook.Info{}, false},
		{"warning", &client.Notice{Type: client.WarningNotice, Key: "w"}, "", hook.Info{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NoticeHook("web", tc.notice, tc.status)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("NoticeHook = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
			if ok {
				if err := got.Validate(); err != nil {
					t.Fatal(err)
				}
			}
			if needs := NeedsChangeStatus(tc.notice); needs != (tc.notice.Type == client.ChangeUpdateNotice && tc.notice.LastData["kind"] != "replan") {
				t.Fatalf("NeedsChangeStatus = %v", needs)
			}
		})
	}
}
