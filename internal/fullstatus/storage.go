package fullstatus

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteStorageTabular writes the storage table of `juju storage` (and of
// `juju status --storage`):
//
//	Unit  Storage ID  Type  Pool  Mountpoint  Size  Status  Message
//
// one row per attachment (a detached instance has an empty Unit), sorted
// by unit then storage id. Nothing is written for no storage.
func WriteStorageTabular(w io.Writer, s *Storage) error {
	if s == nil || len(s.Storage) == 0 {
		return nil
	}
	type row struct{ unit, id string }
	var rows []row
	for id, si := range s.Storage {
		if si.Attachments == nil || len(si.Attachments.Units) == 0 {
			rows = append(rows, row{"", id})
			continue
		}
		for u := range si.Attachments.Units {
			rows = append(rows, row{u, id})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].unit != rows[j].unit {
			return NaturalLess(rows[i].unit, rows[j].unit)
		}
		return NaturalLess(rows[i].id, rows[j].id)
	})
	fsOf := map[string]Filesystem{}
	for _, fs := range s.Filesystems {
		fsOf[fs.Storage] = fs
	}
	table := [][]string{{"Unit", "Storage ID", "Type", "Pool", "Mountpoint", "Size", "Status", "Message"}}
	for _, r := range rows {
		si := s.Storage[r.id]
		fs := fsOf[r.id]
		mount := ""
		if si.Attachments != nil {
			mount = si.Attachments.Units[r.unit].Location
		}
		size := ""
		if fs.Size > 0 {
			size = HumanSize(fs.Size)
		}
		table = append(table, []string{r.unit, r.id, si.Kind, fs.Pool, mount, size, si.Status.Current, si.Status.Message})
	}
	return writeColumns(w, table)
}

// HumanSize renders a size in MiB as Juju does ("1.0 GiB", "512 MiB").
func HumanSize(mib int) string {
	units := []string{"MiB", "GiB", "TiB", "PiB"}
	v := float64(mib)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d MiB", mib)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// writeColumns writes rows with columns padded to their widest cell and
// separated by two spaces, trailing spaces trimmed.
func writeColumns(w io.Writer, rows [][]string) error {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-len(c)+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
