package controller

import cmap "github.com/orcaman/concurrent-map"

// protoactor's process registry is 1024 buckets, each an
// orcaman/concurrent-map of SHARD_COUNT (default 32) Go maps: 32 768 maps.
// Every actor and every request future (one per API call that asks an
// actor) is registered in one of them, and a Go map keeps its storage
// once something has passed through it, so a busy controller's registry
// settles at about 8.5 MB (the largest single holder in the heap profile
// of a 500-unit controller) whatever the number of units. One map per
// bucket keeps the registry's locks 1024 ways apart, ample for the API
// server's concurrency, at 1/32 of the memory. Set before any actor
// system exists (package init; the controller is the only creator).
func init() { cmap.SHARD_COUNT = 1 }
