package fullstatus

import (
	"sort"
	"testing"
	"time"
)

func TestDeriveApplicationStatus(t *testing.T) {
	u := func(cur, msg string) StatusInfo { return StatusInfo{Current: cur, Message: msg} }
	tests := []struct {
		name  string
		units []StatusInfo
		want  StatusInfo
	}{
		{"no units", nil, StatusInfo{Current: "unknown"}},
		{"single unit keeps its message", []StatusInfo{u("active", "relation created")}, u("active", "relation created")},
		{"error beats blocked", []StatusInfo{u("blocked", "b"), u("error", "e")}, u("error", "e")},
		{"blocked beats maintenance", []StatusInfo{u("maintenance", "m"), u("blocked", "b")}, u("blocked", "b")},
		{"maintenance beats waiting", []StatusInfo{u("waiting", "w"), u("maintenance", "m")}, u("maintenance", "m")},
		{"waiting beats active", []StatusInfo{u("active", "a"), u("waiting", "w")}, u("waiting", "w")},
		{"active beats terminated", []StatusInfo{u("terminated", "t"), u("active", "a")}, u("active", "a")},
		{"terminated beats unknown", []StatusInfo{u("unknown", "u"), u("terminated", "t")}, u("terminated", "t")},
		{"unknown beats unranked", []StatusInfo{u("allocating", "x"), u("unknown", "u")}, u("unknown", "u")},
		{"tie keeps the first", []StatusInfo{u("active", "first"), u("active", "second")}, u("active", "first")},
		{"all unknown keeps the message", []StatusInfo{u("unknown", "agent lost"), u("unknown", "")}, u("unknown", "agent lost")},
		{"since is carried", []StatusInfo{u("active", ""), {Current: "error", Message: "hook failed", Since: "s"}}, StatusInfo{Current: "error", Message: "hook failed", Since: "s"}},
		{"status-error is not carried", []StatusInfo{{Current: "active", StatusError: "x"}}, StatusInfo{Current: "active"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeriveApplicationStatus(tt.units); got != tt.want {
				t.Errorf("DeriveApplicationStatus = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSeverityOrder(t *testing.T) {
	order := []string{"error", "blocked", "maintenance", "waiting", "active", "terminated", "unknown", "allocating"}
	want := []int{100, 90, 80, 70, 60, 50, 40, 0}
	for i, s := range order {
		if got := Severity(s); got != want[i] {
			t.Errorf("Severity(%q) = %d, want %d", s, got, want[i])
		}
	}
	// Every pair is ordered: the more severe one wins regardless of position.
	for i := range order[:len(order)-1] {
		for j := i + 1; j < len(order)-1; j++ {
			hi, lo := StatusInfo{Current: order[i]}, StatusInfo{Current: order[j]}
			if got := DeriveApplicationStatus([]StatusInfo{lo, hi}); got.Current != order[i] {
				t.Errorf("derive(%s, %s) = %s", order[j], order[i], got.Current)
			}
			if got := DeriveApplicationStatus([]StatusInfo{hi, lo}); got.Current != order[i] {
				t.Errorf("derive(%s, %s) = %s", order[i], order[j], got.Current)
			}
		}
	}
}

func TestFormatSince(t *testing.T) {
	utc := time.Date(2025, 2, 24, 12, 3, 17, 999, time.UTC)
	if got, want := FormatSince(utc), "24 Feb 2025 12:03:17Z"; got != want {
		t.Errorf("FormatSince(utc) = %q, want %q", got, want)
	}
	nz := utc.In(time.FixedZone("NZDT", 13*3600))
	if got, want := FormatSince(nz), "25 Feb 2025 01:03:17+13:00"; got != want {
		t.Errorf("FormatSince(+13) = %q, want %q", got, want)
	}
	if got, want := FormatSince(time.Date(2025, 3, 5, 1, 2, 3, 0, time.UTC)), "05 Mar 2025 01:02:03Z"; got != want {
		t.Errorf("FormatSince pads the day: %q, want %q", got, want)
	}
	if got := FormatSince(time.Time{}); got != "" {
		t.Errorf("FormatSince(zero) = %q, want empty", got)
	}
	if got, want := FormatTimestamp(utc), "12:03:17Z"; got != want {
		t.Errorf("FormatTimestamp = %q, want %q", got, want)
	}
	if got := FormatTimestamp(time.Time{}); got != "" {
		t.Errorf("FormatTimestamp(zero) = %q, want empty", got)
	}
	parsed, err := time.Parse(SinceLayout, FormatSince(nz))
	if err != nil || !parsed.Equal(utc.Truncate(time.Second)) {
		t.Errorf("SinceLayout does not round-trip: %v, %v", parsed, err)
	}
}

func TestNaturalLess(t *testing.T) {
	want := []string{
		"0", "0/lxd/0", "0/lxd/2", "0/lxd/10", "1", "2", "10",
		"app", "app-b/0", "app/0", "app/1", "app/01", "app/2", "app/10", "app/10a", "app/100",
		"mysql", "postgresql/9", "postgresql/10",
	}
	// Start from the reverse order so the sort has work to do.
	got := append([]string(nil), want...)
	for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
		got[i], got[j] = got[j], got[i]
	}
	sort.Slice(got, func(i, j int) bool { return NaturalLess(got[i], got[j]) })
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("natural order = %q\nwant %q", got, want)
		}
	}
	for _, s := range want {
		if NaturalLess(s, s) {
			t.Errorf("NaturalLess(%q, %q) = true", s, s)
		}
	}
}

func TestTabularHelpers(t *testing.T) {
	for _, tt := range []struct{ url, name, rev string }{
		{"ch:amd64/postgresql-468", "postgresql", "468"},
		{"local:my-app-0", "my-app", "0"},
		{"mysql", "mysql", ""},
		{"ch:mysql-k8s", "mysql-k8s", ""},
		{"", "", ""},
	} {
		if name, rev := charmNameRev(tt.url); name != tt.name || rev != tt.rev {
			t.Errorf("charmNameRev(%q) = %q, %q; want %q, %q", tt.url, name, rev, tt.name, tt.rev)
		}
	}
	for _, tt := range []struct {
		agent *StatusInfo
		want  string
	}{
		{nil, ""},
		{&StatusInfo{Current: "idle", Message: "running install hook"}, ""},
		{&StatusInfo{Current: "executing", Message: "running db-relation-changed hook for mysql/0"}, "db-relation-changed"},
		{&StatusInfo{Current: "executing", Message: "running action backup"}, "backup"},
		{&StatusInfo{Current: "executing", Message: "something else"}, ""},
	} {
		if got := agentDoing(tt.agent); got != tt.want {
			t.Errorf("agentDoing(%+v) = %q, want %q", tt.agent, got, tt.want)
		}
	}
	if got := availabilityZone("arch=amd64 availability-zone=eu-1a cores=2"); got != "eu-1a" {
		t.Errorf("availabilityZone = %q", got)
	}
	if got := availabilityZone(""); got != "" {
		t.Errorf("availabilityZone(\"\") = %q", got)
	}
}
