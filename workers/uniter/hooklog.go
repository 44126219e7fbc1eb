package uniter

import (
	"bytes"
	"log/slog"
	"strings"

	"github.com/troupe-dev/troupe/workers/uniter/outbox"
)

// logHookOutput logs each non-empty line of a hook's output under the
// module unit.<unit>.<hook>, as Juju names hook loggers, and queues the
// lines for debug-log in one outbox entry. Stdout and stderr arrive
// interleaved in one buffer, so every line is INFO (Juju logs stdout at
// DEBUG and stderr at WARNING).
func (u *Uniter) logHookOutput(hook string, out []byte) error {
	module := "unit." + u.cfg.Unit + "." + hook
	e := outbox.Entry{Hook: hook}
	for _, line := range bytes.Split(out, []byte("\n")) {
		if s := strings.TrimRight(string(line), "\r \t"); s != "" {
			e.Logs = append(e.Logs, u.logLine(slog.LevelInfo, module, s))
		}
	}
	if len(e.Logs) == 0 {
		return nil
	}
	return u.report(e)
}
