// Package filewatch reloads what a few files hold (signing keys, a TLS
// certificate and its key) when they change: on a write, a rename or the
// "..data" link swap of a Kubernetes secret, once the files have been
// quiet for a while, so that a pair replaced one file after the other is
// read as one pair. While the last reload was bad it also retries on its
// own, with backoff. Run blocks; New and Run may be used from any
// goroutine, one Run per watcher.
package filewatch
