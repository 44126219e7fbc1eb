// Package observability holds the Grafana dashboard for Troupe's
// Prometheus metrics (grafana-troupe.json) and the test that keeps it in
// step with the families the code registers. It has no code of its own.
package observability
