// Package edge is signgate's verifying origin: an authenticated bucket that
// checks Qencode-compatible signed URLs and serves the files, with
// Qencode's key-management API.
//
// An Edge maps a request's Host to a bucket, applies the bucket's policy
// (public, or authenticated: a token from the auth query parameter or the
// Qencode-Auth-Token cookie, checked with package signer), and serves the
// file from a directory or an HTTP origin, with Range and conditional GETs.
// It serves live streams too (streams.go): at /live/{stream_id}/ on every
// host and at / on a stream's own hosts, always authenticated, opened only
// by keys made for that stream_id (never by a bucket's, nor a bucket by
// theirs), with playlists uncacheable and segments cacheable.
// Its control API (APIHandler) sets policies and creates, lists, renames
// and deletes signing keys; the private half of a new key is returned once
// and never stored. The same operations are Edge methods (Buckets,
// SetPolicy, CreateKey, Keys, RenameKey, DeleteKey, and IssueAccessToken,
// CheckAccessToken and RevokeAccessToken for bearer tokens), which the
// API's handlers and the portal (package edge/console) both call.
//
// Policies, public keys and API access tokens live in a Store: SQLite
// (OpenSQLite) for one node, PostgreSQL (OpenPostgres) shared by several
// edges; OpenStore picks one from the configuration. An Edge serves from
// an in-memory snapshot of the store, refreshed on every write made
// through it, periodically, and, when the store is a Notifier (PostgreSQL,
// through LISTEN/NOTIFY), whenever the store reports a change, so that
// another edge's revocation arrives within milliseconds. On a Fleet store
// (PostgreSQL) every edge registers itself with a heartbeat and records
// the store version it applied, and a key deletion or a policy change
// through the API (DeleteKeyConfirmed, SetPolicyConfirmed) waits, at most
// SIGNGATE_EDGE_CONFIRM_TIMEOUT, until every live edge has applied it,
// and answers whether all did (fleet.go). Verified tokens
// are cached by their SHA-256 until their exp; the cache is purged
// whenever a key is deleted or a policy changes.
//
// MetricsHandler serves the edge's Prometheus metrics (requests by bucket
// and status, token checks by result, the verified-token cache, store
// refreshes, control API requests by route); no label holds a token, a
// path or a key id.
//
// Client is an HTTP client for any Qencode-compatible control API.
//
// Concurrency: Edge, its handlers, both stores and Client are safe for
// concurrent use.
package edge
