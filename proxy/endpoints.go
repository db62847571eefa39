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
	if !rt.public {
		pr, err := g.chain.Authenticate(target)
		if err != nil {
			g.writeError(w, r, err)
			return
		}
		if err := authorize(pr, rt.require); err != nil {
			g.writeError(w, r, err)
			return
		}
	}
	bp, err := rt.bucketPath(p)
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	loc, exp, err := g.sign(rt, bp, target.URL.RawQuery)
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
// header, or 401 (403, 503) as JSON. When the proxy names the original
// URI (X-Original-URI, or X-Forwarded-Uri), that path's route requirements
// are checked too.
func (g *Gateway) serveAuth(w http.ResponseWriter, r *http.Request) {
	setKind(w, kindAuth)
	target := r
	orig := r.Header.Get("X-Original-URI")
	if orig == "" {
		orig = r.Header.Get("X-Forwarded-Uri")
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

// serveHealth answers /healthz (the process serves) and /readyz (every
// route has a signing key).
func (g *Gateway) serveHealth(w http.ResponseWriter, r *http.Request) {
	setKind(w, kindHealth)
	if r.URL.Path == PathReadyz && !g.keysLoaded() {
		g.writeError(w, r, fmt.Errorf("readyz: %w", ErrNoKey))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
