package fullstatus

import (
	"bytes"
	"testing"
)

func TestWriteStorageTabular(t *testing.T) {
	s := &Storage{
		Storage: map[string]StorageInstance{
			"data/10": {Kind: "filesystem", Status: EntityStatus{Current: "attached"},
				Attachments: &StorageAttachments{Units: map[string]UnitStorageAttachment{"app/1": {Machine: "1", Location: "/m/1/storage/data-10"}}}},
			"data/2": {Kind: "filesystem", Status: EntityStatus{Current: "attached"},
				Attachments: &StorageAttachments{Units: map[string]UnitStorageAttachment{"app/1": {Machine: "1", Location: "/m/1/storage/data-2"}}}},
			"data/0": {Kind: "filesystem", Status: EntityStatus{Current: "detached"}},
			"logs/0": {Kind: "filesystem", Status: EntityStatus{Current: "pending", Message: "waiting for machine"},
				Attachments: &StorageAttachments{Units: map[string]UnitStorageAttachment{"app/0": {Machine: "0"}}}},
		},
		Filesystems: map[string]Filesystem{
			"0": {Storage: "data/0", Pool: "rootfs", Size: 1024},
			"1": {Storage: "data/2", Pool: "rootfs", Size: 512},
			"2": {Storage: "data/10", Pool: "rootfs", Size: 3 << 20},
			"3": {Storage: "logs/0", Pool: "rootfs", Size: 1536},
		},
	}
	var b bytes.Buffer
	if err := WriteStorageTabular(&b, s); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"Unit   Storage ID  Type        Pool    Mountpoint            Size     Status    Message\n" +
		"       data/0      filesystem  rootfs                        1.0 GiB  detached\n" +
		"app/0  logs/0      filesystem  rootfs                        1.5 GiB  pending   waiting for machine\n" +
		"app/1  data/2      filesystem  rootfs  /m/1/storage/data-2   512 MiB  attached\n" +
		"app/1  data/10     filesystem  rootfs  /m/1/storage/data-10  3.0 TiB  attached\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteStorageTabular(&b, nil); err != nil || b.Len() != 0 {
		t.Errorf("no storage: %q %v", b.String(), err)
	}
}
