// Package logsender carries an agent's log records to the controller
// (`troupe debug-log`).
//
// Model. A Buffer is a bounded, in-memory queue of records owned by one
// agent; it outlives the sender worker (the agent assembly creates it), so
// records survive a restart of the worker or of the API connection. A
// Handler is an slog.Handler that tees: every record still goes to the
// wrapped handler (agent.log, at that handler's level) and is also copied
// into the Buffer (at every level). Appending never blocks and never grows
// the buffer past its capacity: when it is full the oldest record is
// discarded and counted as dropped, so the uniter is never held up by an
// unreachable controller.
//
// The worker (Run) takes batches from the buffer and sends them with
// SendLogs; a batch leaves the buffer only once the controller accepted
// it. The dropped count goes with the next batch and the controller
// records a WARNING line saying how many records were lost. A failed call
// makes Run return its error; the engine restarts the worker, which sends
// the same records again.
//
// Record fields: the module is the record's "module" attribute (the
// agent assembly sets one per worker, e.g. juju.worker.uniter; juju-log
// uses unit.<unit>.juju-log), else the handler's default; the message is
// the slog message followed by the other attributes as key=value, less
// those the handler omits (a unit agent's "unit"). Levels
// map to Juju's: LevelTrace and LevelCritical extend slog's four.
//
// Who imports it: the agent assemblies (unitagent, machineagent) and the
// workers that log with Juju levels (uniter). It never imports controller
// code.
package logsender
