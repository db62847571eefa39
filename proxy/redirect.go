package proxy

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/signgate/signgate/internal/httpx"
)

// serveMedia answers a request for media under route rt, whose canonical
// path is p: authenticate (unless the route is public), authorize, take a
// token for the scope from the cache, and redirect to the CDN.
//
// This is the hot path. A cache hit costs a map lookup, no RSA, and the
// answer is written straight into the header map: no http.Redirect, whose
// HTML body repeats the URL, and no body at all.
func (g *Gateway) serveMedia(w http.ResponseWriter, r *http.Request, rt *route, p string) {
	setKind(w, kindRedirect)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		g.writeError(w, r, httpx.Errorf(http.StatusMethodNotAllowed, "method_not_allowed", "use GET or HEAD", nil))
		return
	}
	g.cors.decorate(w, r)
	p0, known, err := g.admit(r, rt)
	if err != nil {
		g.unauthenticated(w, r, err)
		return
	}
	var pr *Principal // nil: anonymous, on a public route
	if known {
		pr = &p0
	}
	bp, err := rt.bucketPath(p)
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	if rt.stream.mode == streamManifest { // HLS/DASH manifest mode (manifest.go)
		if f := formatOf(bp); f != formatNone {
			g.serveManifest(w, r, rt, bp, f, pr)
			return
		}
	}
	loc, _, err := g.sign(r.Context(), rt, bp, r.URL.RawQuery, pr)
	if err == nil && rt.stream.mode == streamCookie { // HLS/DASH cookie mode (cookie.go)
		err = g.setStreamCookie(r.Context(), w, rt, bp, pr)
	}
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	h := w.Header()
	h["Location"] = []string{loc}
	h["Cache-Control"] = g.hdrNoStore
	h["Referrer-Policy"] = g.hdrNoReferrer
	w.WriteHeader(rt.status)
	rt.redirect.Inc()
}

// sign returns the signed CDN URL of bucket path bp under route rt for
// principal pr, with the client's query (any auth parameter dropped), and
// the token's expiry. The claim is the route's scope as grant allows it.
// The URL's scheme and host come from configuration alone.
func (g *Gateway) sign(ctx context.Context, rt *route, bp, rawQuery string, pr *Principal) (string, time.Time, error) {
	uri, err := g.grant(rt, bp, reachOf(rt.scope), pr)
	if err != nil {
		return "", time.Time{}, err
	}
	l := rt.signer.Load()
	if l == nil {
		return "", time.Time{}, fmt.Errorf("route %s: %w", rt.name, ErrNoKey)
	}
	tok, exp, err := g.mint(ctx, rt, l.s, grantOf(reachOf(rt.scope), uri, bp))
	if err != nil {
		g.metrics.signErrors.Inc()
		return "", time.Time{}, fmt.Errorf("route %s: %w", rt.name, err)
	}
	loc, err := l.urls.URL(bp, rawQuery, tok) // the signer's own URL, remembered
	if err != nil {
		return "", time.Time{}, fmt.Errorf("route %s: %w", rt.name, err)
	}
	return loc, exp, nil
}

// unauthenticated answers a request that the chain did not accept. A
// browser is sent to the login URL with a same-site return path; any other
// client gets 401 JSON with WWW-Authenticate. 403 and 503 are answered as
// they are: a failing backend never sends anyone to log in again.
func (g *Gateway) unauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	he := status(err)
	if he.Status == http.StatusUnauthorized && g.loginURL != nil && wantsHTML(r) {
		g.log.Debug("sending browser to log in", "path", r.URL.Path, "err", err.Error())
		h := w.Header()
		h["Location"] = []string{g.loginLocation(r)}
		h["Cache-Control"] = g.hdrNoStore
		h["Referrer-Policy"] = g.hdrNoReferrer
		w.WriteHeader(http.StatusFound)
		return
	}
	g.writeError(w, r, he)
}

// writeError answers err through status, the one error-to-status mapping,
// adding WWW-Authenticate to a 401.
func (g *Gateway) writeError(w http.ResponseWriter, r *http.Request, err error) {
	he := status(err)
	if he.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="signgate"`)
	}
	httpx.WriteError(w, r, g.log, he)
}
