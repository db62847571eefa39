// Package metrics holds what the gateway's and the edge's Prometheus
// metrics share: a registry with the Go and process collectors, its
// /metrics handler, and Counters, the counters of one CounterVec looked up
// without a lock on the hot path.
//
// Concurrency: Counters is safe for concurrent use.
package metrics
