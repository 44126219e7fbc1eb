package uniter

import (
	"bytes"
	"log/slog"
	"strings"

	"github.com/troupe-dev/troupe/workers/logsender"
)

// logHookOutput logs each non-empty line of a hook's output under the
// module unit.<unit>.<hook>, as Juju names hook loggers. Stdout and
// stderr arrive interleaved in one buffer, so every line is INFO (Juju
// logs stdout at DEBUG and stderr at WARNING).
func logHookOutput(log *slog.Logger, unit, hook string, out []byte) {
	module := "unit." + unit + "." + hook
	for _, line := range bytes.Split(out, []byte("\n")) {
		if s := strings.TrimRight(string(line), "\r \t"); s != "" {
			log.Info(s, "unit", unit, logsender.ModuleKey, module)
		}
	}
}
