// Package logstore is the controller's log sink: a bounded, durable store
// of agent log records (`troupe debug-log`) on the controller's own disk,
// never in etcd.
//
// Model. Each model has a directory under the store's root holding an
// append-only JSON-lines file, current.jsonl, one Record per line. When
// current.jsonl would grow past Config.MaxFileSize it is renamed to
// <first-seq>.jsonl and a new one is started; only the newest
// Config.MaxFiles rotated files are kept, so a model's log never exceeds
// about (MaxFiles+1)×MaxFileSize bytes. Every record gets the next
// per-model sequence number (Record.Seq, from 1), recovered from the files
// when the store opens.
//
// Tailing. Append wakes every waiter of the model at once: Changed returns
// a channel that is closed by the next Append (or by Close), and After
// returns the records after a given sequence number, from an in-memory
// window of recent records or, for an old position, from the files. The
// store starts no goroutine; its callers own theirs.
//
// Filtering and levels are pure (Filter, ParseLevel) so the API server and
// its tests share them.
//
// Who imports it: the controller assembly and its API server. Agents never
// do; they send records through internal/api.
package logstore
