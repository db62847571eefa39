// Command chaos is the soak and chaos test that bench/soak builds and runs
// (docs/bench.md, "Soak"): a gateway and an edge on a PostgreSQL store,
// with an upstream app and a forward-auth app, under a fixed-rate mixed
// load while faults come one after the other: key rotation (a Kubernetes
// ..data swap), SIGHUP, a PostgreSQL restart, an upstream that dies and
// comes back, a forward-auth app that slows down. It reports errors by
// cause, latency and memory per interval, and fails on an error that no
// fault explains, on RSS over SOAK_RSS_LIMIT, or on RSS that keeps
// growing.
//
// Everything listens on 127.0.0.1. PostgreSQL is a private cluster made
// with initdb in the run's temporary directory, on a free port, as the
// postgres user when run as root; no other cluster is touched. Every
// process is started by the soak and stopped by its PID when it ends.
//
//	chaos -signgate BIN -pg-bin DIR -tmp DIR -out DIR   a soak (settings: SOAK_* variables)
//	chaos app -role upstream|forward -listen ADDR       one of the apps
package main
