package proxy

import (
	"fmt"
	"net/http"
	"time"

	"github.com/signgate/signgate/internal/httpx"
)

// Paths of the gateway's own endpoints (the check endpoints are in
// frontdoor_check.go). They take precedence over the upstream app.
const (
	PathSign    = "/.signgate/sign"
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
	target, err := targetRequest(r, r.URL.Query().Get("path"), "")
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
	loc, exp, err := g.sign(target.Context(), rt, bp, target.URL.RawQuery, pr)
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
