// Package console is the edge's portal: server-rendered web pages, under
// /console/ on the edge's API listener, for what the control API does.
// Sign in with a configured API key; list the buckets with their region,
// hosts and policy and turn authenticated access on or off; list, create,
// rename and delete signing keys. A new key's private half is shown once,
// with a copy button and a download as a .pem file, and is never stored.
//
// The API key is exchanged for an ordinary API bearer token (the
// access_token flow, Edge.IssueAccessToken), which the browser keeps in an
// HttpOnly, SameSite=Strict cookie, Secure when the request came over
// TLS (or through a proxy that says X-Forwarded-Proto: https); signing
// out revokes it. Every change is a POST that must carry the session's
// CSRF token (derived from the session token, compared in constant time;
// before sign-in a double-submit cookie) and pass net/http's
// CrossOriginProtection (Sec-Fetch-Site and Origin). Pages are sent with
// Cache-Control: no-store and a strict Content-Security-Policy; the only
// script is the copy button's.
//
// The templates, the stylesheet and the script are embedded. No log line
// holds an API key, a session token or a private key.
//
// A Console is safe for concurrent use.
package console
