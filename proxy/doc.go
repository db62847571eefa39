// Package proxy is signgate's gateway: an http.Handler that turns an
// authenticated request for media into a redirect to a freshly signed CDN
// URL, and passes every other path to the upstream app.
//
// For a request under a configured media prefix it authenticates the user
// (an auth.Chain of Authenticators, package proxy/auth: a trusted header,
// a JWT session, the app's forward-auth check, or the embedder's own),
// checks the route's required claims, takes a token
// for the path's scope from the signer.Cache (minting on a miss) and
// answers 302 or 307 with Location built from the configured CDN base, never
// from the request. Unauthenticated browsers go to the login URL with a
// same-site return path; other clients get 401 JSON. A failing auth backend
// gives 503: failures fail closed.
//
// HLS and DASH are a route option (streaming.go). In cookie mode each
// redirect also sets the Qencode-Auth-Token cookie for the directory
// (cookie.go). In manifest mode the gateway fetches .m3u8 and .mpd files
// from the CDN itself and answers them rewritten (manifest.go): media
// URIs become signed absolute CDN URLs, child playlists root-relative
// gateway paths, URIs on other hosts stay as they are.
//
// Other paths go to the upstream through httputil.ReverseProxy with
// Rewrite, which strips the client's copies of the identity headers and
// sets the authenticated subject.
//
// The gateway also answers /.signgate/sign (a signed URL as JSON, for
// single-page apps), /.signgate/auth (a forward-auth endpoint for nginx,
// Traefik or Caddy), /healthz and /readyz, and exposes Prometheus metrics.
//
// Build one with New from a Config (proxy's own: it reads no environment;
// cmd/signgate's adapter fills it from the environment) and Options,
// which hold the authenticators. A route's key is held in memory
// (Route.Key) or read from files, reloaded by Reload and the watcher
// (keys.go, keywatch.go, keystate.go). New's errors are *SettingError.
// A Gateway and its Handler are safe for concurrent use; Reload may run
// while requests are served.
package proxy
