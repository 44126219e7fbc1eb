package storage_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/charm"
	"github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/internal/storage"
)

func TestParseDirective(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want storage.Directive
		err  string
	}{
		{in: "rootfs,2G,1", want: storage.Directive{Pool: "rootfs", SizeMiB: 2048, Count: 1, HasCount: true}},
		{in: "3,rootfs,10M", want: storage.Directive{Pool: "rootfs", SizeMiB: 10, Count: 3, HasCount: true}},
		{in: "2G", want: storage.Directive{SizeMiB: 2048}},
		{in: "1.5G", want: storage.Directive{SizeMiB: 1536}},
		{in: "1T", want: storage.Directive{SizeMiB: 1 << 20}},
		{in: "512MiB", want: storage.Directive{SizeMiB: 512}},
		{in: "0", want: storage.Directive{Count: 0, HasCount: true}},
		{in: "ebs", want: storage.Directive{Pool: "ebs"}},
		{in: "", err: "empty storage directive"},
		{in: "1,2", err: "more than one count"},
		{in: "1G,2G", err: "more than one size"},
		{in: "a,b", err: "more than one pool"},
		{in: "2X", err: "neither a pool name"},
		{in: "-1", err: "neither a pool name"},
	} {
		got, err := storage.ParseDirective(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseDirective(%q): error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDirective(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	meta := map[string]charm.Storage{
		"data":  {Name: "data", Type: charm.StorageFilesystem, CountMin: 1, CountMax: 3, MinimumSize: 100, Location: "/srv/data"},
		"cache": {Name: "cache", Type: charm.StorageFilesystem, CountMin: 0, CountMax: -1, MinimumSize: 4096, ReadOnly: true},
		"disk":  {Name: "disk", Type: charm.StorageBlock, CountMin: 0, CountMax: 1},
	}
	def := func(kind string, size uint64, count, max int, loc string, ro bool) entity.StorageDirective {
		return entity.StorageDirective{Kind: kind, Pool: "rootfs", SizeMiB: size, Count: count, CountMax: max, Location: loc, ReadOnly: ro}
	}
	for _, tc := range []struct {
		name string
		user map[string]string
		want map[string]entity.StorageDirective
		err  string
	}{
		{name: "defaults: minimum count, 1G or minimum-size", want: map[string]entity.StorageDirective{
			"data": def("filesystem", 1024, 1, 3, "/srv/data", false), "cache": def("filesystem", 4096, 0, -1, "", true), "disk": def("block", 1024, 0, 1, "", false)}},
		{name: "size and count", user: map[string]string{"data": "2G,3", "cache": "rootfs,8G,2"}, want: map[string]entity.StorageDirective{
			"data": def("filesystem", 2048, 3, 3, "/srv/data", false), "cache": def("filesystem", 8192, 2, -1, "", true), "disk": def("block", 1024, 0, 1, "", false)}},
		{name: "unknown storage", user: map[string]string{"nosuch": "1G"}, err: `charm has no storage "nosuch": it declares cache, data, disk`},
		{name: "count above max", user: map[string]string{"data": "4"}, err: `count 4 exceeds the charm's maximum 3`},
		{name: "count below min", user: map[string]string{"data": "0"}, err: `count 0 is below the charm's minimum 1`},
		{name: "size below minimum", user: map[string]string{"cache": "1G"}, err: `size 1024M is below the charm's minimum-size 4096M`},
		{name: "other pool", user: map[string]string{"data": "ebs"}, err: `pool "ebs" is not available on the local provider`},
		{name: "block refused when created", user: map[string]string{"disk": "1"}, err: `block storage is not supported by the local provider`},
		{name: "bad directive", user: map[string]string{"data": "x,y"}, err: "more than one pool"},
	} {
		got, err := storage.Resolve(meta, tc.user)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, %v\nwant %+v", tc.name, got, err, tc.want)
		}
	}
	if got, err := storage.Resolve(nil, nil); got != nil || err != nil {
		t.Errorf("no storage: got %v, %v; want nil, nil", got, err)
	}
	if _, err := storage.Resolve(nil, map[string]string{"data": "1G"}); err == nil || !strings.Contains(err.Error(), "charm declares no storage") {
		t.Errorf("--storage for a charm without storage: %v", err)
	}
}

func TestCheckAdd(t *testing.T) {
	dirs := map[string]entity.StorageDirective{
		"data":  {Kind: "filesystem", Count: 1, CountMax: 3},
		"many":  {Kind: "filesystem", Count: 0, CountMax: -1},
		"block": {Kind: "block", CountMax: 2},
	}
	for _, tc := range []struct {
		name    string
		have, n int
		err     string
	}{
		{"data", 1, 2, ""},
		{"data", 1, 3, "above the charm's maximum 3"},
		{"many", 100, 5, ""},
		{"data", 0, 0, "count must be positive"},
		{"nosuch", 0, 1, `charm storage "nosuch" not found`},
		{"block", 0, 1, "block storage is not supported"},
	} {
		_, err := storage.CheckAdd(dirs, tc.name, tc.have, tc.n)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("CheckAdd(%s, have %d, +%d): %v, want %q", tc.name, tc.have, tc.n, err, tc.err)
		}
	}
}

func TestIDsAndDirs(t *testing.T) {
	for id, want := range map[string]bool{"data/0": true, "data/12": true, "data": false, "data/": false, "/0": false, "data/01": false, "data/0/1": false, "data/-1": false} {
		if got := storage.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
	if got := storage.LocalDir("/m/0", "data/3"); got != "/m/0/storage/data-3" {
		t.Errorf("LocalDir = %s", got)
	}
}
