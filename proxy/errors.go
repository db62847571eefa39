package proxy

import (
	"context"
	"errors"
	"net/http"

	"github.com/signgate/signgate/internal/httpx"
	"github.com/signgate/signgate/internal/manifest"
	"github.com/signgate/signgate/proxy/auth"
	"github.com/signgate/signgate/signer"
)

// Sentinel errors. Authenticators and handlers wrap them with %w; status
// maps them to HTTP answers in one place.
var (
	// ErrNoCredentials, ErrUnauthenticated, ErrForbidden and
	// ErrAuthBackend are auth's (the same values): see package auth.
	ErrNoCredentials   = auth.ErrNoCredentials
	ErrUnauthenticated = auth.ErrUnauthenticated
	ErrForbidden       = auth.ErrForbidden
	ErrAuthBackend     = auth.ErrAuthBackend
	// ErrBadRequest: the request cannot be served as asked.
	ErrBadRequest = errors.New("bad request")
	// ErrNotFound: no route and no upstream for the path.
	ErrNotFound = errors.New("not found")
	// ErrNoKey: a route has no usable signing key.
	ErrNoKey = errors.New("no signing key loaded")
	// ErrDraining: the gateway is shutting down (Drain); /readyz fails.
	ErrDraining = errors.New("shutting down")
	// ErrUpstream: the upstream app could not be reached.
	ErrUpstream = errors.New("upstream unavailable")
	// ErrCDN: the CDN could not be reached for a manifest, or answered
	// with an error.
	ErrCDN = errors.New("CDN unavailable")
	// ErrCDNRefused: the CDN refused the gateway's own token for a
	// manifest (wrong key, clock skew, revoked key).
	ErrCDNRefused = errors.New("CDN refused the token")
	// ErrCDNTimeout: the CDN did not deliver a manifest in time.
	ErrCDNTimeout = errors.New("CDN timed out")
	// ErrManifestURI: a manifest points at a path on the CDN that this
	// route may not sign.
	ErrManifestURI = errors.New("manifest URI refused")
	// ErrPathParams: a media path holds ";" (see checkMediaPath).
	ErrPathParams = errors.New("path parameters (;) in a media path")
	// ErrLookalike: a path that is not a media route's as written, but
	// would be one (or another one) read leniently: case folded, ";params"
	// or trailing dots dropped, escapes decoded (see routes.lookup).
	ErrLookalike = errors.New("the path reads as another media path")
	// ErrBusy: every turn to rewrite a manifest stayed taken for the
	// manifest timeout (Config.ManifestConcurrency).
	ErrBusy = errors.New("too many manifests being rewritten")

	// errClientGone: the client left before the answer was ready.
	errClientGone = errors.New("client closed the request")
)

// statusClientClosed is logged (and never seen) when the client left.
const statusClientClosed = httpx.StatusClientClosed

// status maps an error to the HTTP error the client sees: a status, a
// stable code and a short public message. The error itself is kept as the
// cause, for the log only. This is the only place errors become statuses;
// the failures the edge shares go through httpx.Classify. The gateway's
// body shape, {"error": {"code", "message"}}, is httpx.WriteError's.
func status(err error) *httpx.Error {
	var he *httpx.Error
	switch {
	case errors.As(err, &he):
		return he
	case errors.Is(err, context.Canceled):
		// The client left: whatever failed because of it, nobody is
		// there to answer (httpx.Classify: 499, not logged as an error).
		return httpx.Classify(err)
	case errors.Is(err, ErrAuthBackend):
		return httpx.Errorf(http.StatusServiceUnavailable, "auth_unavailable", "authentication is temporarily unavailable", err)
	case errors.Is(err, ErrForbidden):
		return httpx.Errorf(http.StatusForbidden, "forbidden", "you may not access this resource", err)
	case errors.Is(err, ErrUnauthenticated), errors.Is(err, ErrNoCredentials):
		return httpx.Errorf(http.StatusUnauthorized, "unauthenticated", "authentication required", err)
	// Manifest mode: before ErrPath and ErrQuery, which a refused URI in
	// a manifest wraps; the manifest is the CDN's fault, not the client's.
	case errors.Is(err, manifest.ErrTooLarge):
		return httpx.Errorf(http.StatusBadGateway, "manifest_too_large", "the manifest is too large", err)
	case errors.Is(err, manifest.ErrMalformed):
		return httpx.Errorf(http.StatusBadGateway, "manifest_malformed", "the manifest could not be parsed", err)
	case errors.Is(err, manifest.ErrUnsupported):
		return httpx.Errorf(http.StatusBadGateway, "manifest_unsupported", "the manifest uses a form the gateway cannot rewrite", err)
	case errors.Is(err, ErrManifestURI):
		return httpx.Errorf(http.StatusBadGateway, "manifest_uri_refused", "the manifest points outside this route", err)
	case errors.Is(err, ErrCDNRefused):
		return httpx.Errorf(http.StatusBadGateway, "cdn_refused", "the CDN refused the gateway's token", err)
	case errors.Is(err, ErrBusy):
		return httpx.Errorf(http.StatusServiceUnavailable, "manifest_busy", "too many manifests are being rewritten; retry shortly", err)
	case errors.Is(err, ErrCDNTimeout):
		return httpx.Errorf(http.StatusGatewayTimeout, "cdn_timeout", "the CDN did not answer in time", err)
	case errors.Is(err, ErrCDN):
		return httpx.Errorf(http.StatusBadGateway, "cdn_unavailable", "the CDN is unavailable", err)
	case errors.Is(err, ErrGrant):
		return httpx.Errorf(http.StatusForbidden, "grant_conflict", "this path holds another route's media; ask for a file inside it", err)
	case errors.Is(err, ErrPathParams):
		return httpx.Errorf(http.StatusBadRequest, "path_params", "a media path may not hold ;", err)
	case errors.Is(err, ErrLookalike):
		return httpx.Errorf(http.StatusBadRequest, "path_lookalike", "the path is another spelling of a media path", err)
	}
	// The failures both servers classify alike: timeouts, refused and
	// reset connections, oversized bodies, non-canonical paths.
	if he := httpx.Classify(err); he != nil {
		return he
	}
	switch {
	case errors.Is(err, signer.ErrPath):
		return httpx.Errorf(http.StatusBadRequest, "path_not_canonical", "the path is not canonical", err)
	case errors.Is(err, signer.ErrQuery):
		return httpx.Errorf(http.StatusBadRequest, "bad_query", "the query string is not validly escaped", err)
	case errors.Is(err, ErrBadRequest):
		return httpx.Errorf(http.StatusBadRequest, "bad_request", "bad request", err)
	case errors.Is(err, ErrNotFound):
		return httpx.Errorf(http.StatusNotFound, "not_found", "not found", err)
	case errors.Is(err, ErrNoKey):
		return httpx.Errorf(http.StatusServiceUnavailable, "not_ready", "signing is temporarily unavailable", err)
	case errors.Is(err, ErrUpstream):
		return httpx.Errorf(http.StatusBadGateway, "bad_gateway", "the upstream application is unavailable", err)
	case errors.Is(err, errClientGone):
		return httpx.Errorf(statusClientClosed, "client_gone", "the client closed the request", err)
	}
	return httpx.Errorf(http.StatusInternalServerError, "internal", "internal error", err)
}
