// Package httpx holds the HTTP plumbing that the gateway and the edge
// share: servers with timeouts, header limits and connection limits,
// bounded request bodies (body.go), graceful start and drain, JSON errors
// with a public reason and a logged cause (under the log key "err"), the
// one failure classifier (Classify) and the one CORS (CORS) of both
// servers, and access logs that never show a query string, a cookie or an
// Authorization header.
//
// Everything here is safe for concurrent use.
package httpx
