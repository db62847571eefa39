package proxy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/signgate/signgate/internal/httpx"
)

// Paths of the gateway's own endpoints. They take precedence over the
// upstream app.
const (
	PathSign    = "/.signgate/sign"
	PathAuth    = "/.signgate/auth"
	PathHealthz = "/healthz"
	PathReadyz  = "/readyz"
)

// serveSign answers GET /.signgate/sign?path=/media/v/x.mp4 with
// {"url", "expires_at"}: the signed URL a redirect would carry, behind the
// same authentication and authorization as the path itself.
func (g *Gateway) serveSign(w http.ResponseWriter, r *http.Request) {
	setKind(w, kindSign)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		g.writeError(w, r, httpx.Errorf(http.StatusMethodNotAllowed, "method_not_allowed", "use GET", nil))
		return
	}
	g.cors.decorate(w, r)
	target, err := targetRequest(r, r.URL.Query().Get("path"))
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	rt, p, err := g.routes.lookup(target)
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	if rt == nil {
		g.writeError(w, r, fmt.Errorf("%w: no media route for this path", ErrNotFound))
		return
	}
	p0, known, err := g.admit(target, rt)
	if err != nil {
		g.writeError(w, r, err)
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
	loc, exp, err := g.sign(rt, bp, target.URL.RawQuery, pr)
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	rt.redirect.Inc()
	httpx.WriteJSON(w, http.StatusOK, map[string]string{
		"url":        loc,
		"expires_at": exp.UTC().Format(time.RFC3339),
	})
}

// targetRequest returns a shallow copy of r that asks for target, a path
// with an optional query, so that authenticators (forward-auth) see the
// path in question. target must be a same-site path.
func targetRequest(r *http.Request, target string) (*http.Request, error) {
	if target == "" {
		return nil, fmt.Errorf("%w: the path parameter is required", ErrBadRequest)
	}
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
		return nil, fmt.Errorf("%w: path must be an absolute path on this site", ErrBadRequest)
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: path must be an absolute path on this site", ErrBadRequest)
	}
	t := new(http.Request)
	*t = *r
	t.URL = u
	t.RequestURI = u.RequestURI()
	return t, nil
}

// serveAuth is a forward-auth endpoint for nginx auth_request, Traefik
// forwardAuth and Caddy forward_auth: 200 with the subject in the subject
// header, or 401 (403, 503) as JSON. When a trusted proxy names the
// original URI (X-Original-URI, or X-Forwarded-Uri), that path's route
// requirements are checked too; see originalURI.
func (g *Gateway) serveAuth(w http.ResponseWriter, r *http.Request) {
	setKind(w, kindAuth)
	target := r
	orig, err := g.originalURI(r)
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	if orig != "" {
		t, err := targetRequest(r, orig)
		if err != nil {
			g.writeError(w, r, err)
			return
		}
		target = t
	}
	pr, err := g.chain.Authenticate(target)
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	if orig != "" {
		rt, _, err := g.routes.lookup(target)
		if err != nil {
			g.writeError(w, r, err)
			return
		}
		if rt != nil {
			if err := authorize(pr, rt.require); err != nil {
				g.writeError(w, r, err)
				return
			}
		}
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if pr.Subject != "" {
		h.Set(g.subjectHeader, pr.Subject)
	}
	w.WriteHeader(http.StatusOK)
}

// serveHealth answers /healthz (the process serves) and /readyz. Ready
// means every route has a signing key to serve with, and the gateway is
// not draining: 200 with each route's key state. A route whose new key
// files were refused serves on with its last good pair: still ready,
// with "status": "degraded" and the route's state (missing, invalid,
// mismatch, unverified), so that a rotation gone wrong shows without
// taking the gateway out of its load balancer.
func (g *Gateway) serveHealth(w http.ResponseWriter, r *http.Request) {
	setKind(w, kindHealth)
	if r.URL.Path != PathReadyz {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	}
	if g.draining.Load() {
		g.writeError(w, r, httpx.Errorf(http.StatusServiceUnavailable, "draining", "the gateway is shutting down", ErrDraining))
		return
	}
	if !g.keysLoaded() {
		g.writeError(w, r, fmt.Errorf("readyz: %w", ErrNoKey))
		return
	}
	keys, ok := g.keyReports()
	status := "ok"
	if !ok {
		status = "degraded"
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		Status string      `json:"status"`
		Keys   []keyReport `json:"keys"`
	}{status, keys})
}

// originalURI returns the path a forward-auth proxy asks about, from
// X-Original-URI (nginx) or X-Forwarded-Uri (Traefik, Caddy), or "" when
// neither is sent.
//
// Those proxies copy every client header into the auth request and set
// only their own, so a client can add the other header, or a second copy,
// naming a path with weaker requirements. The headers are therefore
// believed only from SIGNGATE_TRUSTED_PROXIES, each at most once, and when
// both are sent they must agree. From any other peer they are refused
// rather than ignored: ignoring them would answer 200 for a path whose
// requirements were never checked.
func (g *Gateway) originalURI(r *http.Request) (string, error) {
	orig, fwd := r.Header.Values("X-Original-URI"), r.Header.Values("X-Forwarded-Uri")
	switch {
	case len(orig) == 0 && len(fwd) == 0:
		return "", nil
	case !g.trusted.contains(r.RemoteAddr):
		return "", httpx.Errorf(http.StatusBadRequest, "untrusted_proxy",
			"X-Original-URI and X-Forwarded-Uri are honoured only from SIGNGATE_TRUSTED_PROXIES",
			fmt.Errorf("%w: original URI from %s, not a trusted proxy", ErrBadRequest, r.RemoteAddr))
	case len(orig) > 1 || len(fwd) > 1:
		return "", httpx.Errorf(http.StatusBadRequest, "ambiguous_original_uri",
			"the original URI is given more than once", ErrBadRequest)
	case len(orig) == 1 && len(fwd) == 1 && orig[0] != fwd[0]:
		return "", httpx.Errorf(http.StatusBadRequest, "ambiguous_original_uri",
			"X-Original-URI and X-Forwarded-Uri name different paths", ErrBadRequest)
	case len(orig) == 1 && orig[0] == "", len(fwd) == 1 && fwd[0] == "":
		return "", httpx.Errorf(http.StatusBadRequest, "bad_original_uri",
			"the original URI is empty", ErrBadRequest)
	case len(orig) == 1:
		return orig[0], nil
	}
	return fwd[0], nil
}
