package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/fullstatus"
)

// runStorage is `juju storage` (list-storage): the model's storage
// instances, as status's `storage` object (json, yaml) or table.
func runStorage(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("storage")
	format := fs.String("", "format", "tabular", "output format: tabular|json|yaml")
	model := fs.String("m", "model", "", "model to show")
	fs.Bool("", "filesystem", false, "accepted for compatibility (the listing always shows filesystems)")
	fs.Bool("", "volume", false, "accepted for compatibility (the local provider has no volumes)")
	if _, err := parse(fs, args); err != nil {
		return err
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := conn.Status(ctx, &apipb.StatusRequest{Model: m})
	if err != nil {
		return apiError(err)
	}
	st := buildStorage(res.Storage)
	switch *format {
	case "json":
		return writeJSON(env.Stdout, orEmptyStorage(st))
	case "yaml":
		return writeYAML(env.Stdout, orEmptyStorage(st))
	}
	if st == nil {
		fmt.Fprintln(env.Stderr, "No storage to display.")
		return nil
	}
	return fullstatus.WriteStorageTabular(env.Stdout, st)
}

func orEmptyStorage(s *fullstatus.Storage) *fullstatus.Storage {
	if s == nil {
		return &fullstatus.Storage{}
	}
	return s
}

// buildStorage turns the API's storage instances into status's `storage`
// object: each instance with its unit attachment, and its filesystem
// attached to the unit's machine. nil when the model has no storage.
func buildStorage(list []*apipb.StorageStatus) *fullstatus.Storage {
	if len(list) == 0 {
		return nil
	}
	out := &fullstatus.Storage{Storage: map[string]fullstatus.StorageInstance{}}
	for _, s := range list {
		st := fullstatus.EntityStatus{}
		if i := info(s.Status); i != nil {
			st = fullstatus.EntityStatus{Current: i.Current, Message: i.Message, Since: i.Since}
		}
		si := fullstatus.StorageInstance{Kind: s.Kind, Life: s.Life, Status: st, Persistent: false}
		fsys := fullstatus.Filesystem{Storage: s.Id, Pool: s.Pool, Size: int(s.SizeMib), Life: s.Life, Status: &fullstatus.EntityStatus{Current: st.Current, Since: st.Since}}
		if s.Unit != "" {
			ua := fullstatus.UnitStorageAttachment{Machine: s.Machine, Location: s.Location, Life: s.AttachmentLife}
			si.Attachments = &fullstatus.StorageAttachments{Units: map[string]fullstatus.UnitStorageAttachment{s.Unit: ua}}
			fsys.Attachments = &fullstatus.FilesystemAttachments{
				Machines: map[string]fullstatus.FilesystemAttachment{s.Machine: {MountPoint: s.Location, ReadOnly: s.ReadOnly, Life: s.AttachmentLife}},
				Units:    map[string]fullstatus.UnitStorageAttachment{s.Unit: ua},
			}
		}
		out.Storage[s.Id] = si
		if s.Kind == "filesystem" && s.Filesystem != "" {
			if out.Filesystems == nil {
				out.Filesystems = map[string]fullstatus.Filesystem{}
			}
			out.Filesystems[s.Filesystem] = fsys
		}
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
