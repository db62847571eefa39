package proxy

import (
	"net/http"
	"strings"
	"time"

	"github.com/signgate/signgate/internal/httpx"
)

// middleware composes the gateway's stack around h. In order, outermost
// first:
//
//  0. tracing (tracing.go), when on: the request's server span, named
//     after the route once serve knows it;
//  1. access log (httpx.AccessLog), when Config.AccessLog is on: one
//     JSON line per request, with the path but never the query, a cookie
//     or Authorization;
//  2. metrics: duration and count by handler kind and status;
//  3. h, the dispatcher (serve).
//
// Identity headers are not stripped by a middleware: the pass-through
// strips them inside Rewrite, after hop-by-hop removal, and nothing else
// reads them but the header authenticator, from trusted proxies only.
func (g *Gateway) middleware(h http.Handler) http.Handler {
	h = g.measure(h)
	if g.cfg.AccessLog {
		h = httpx.AccessLog(g.log)(h)
	}
	return g.tracer.Handler(h, "gateway", nil)
}

// measure records the metrics of each request.
func (g *Gateway) measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		kr := &kindRecorder{Recorder: httpx.Recorder{ResponseWriter: w}, kind: kindError}
		next.ServeHTTP(kr, r)
		g.metrics.observe(kr.kind, kr.StatusCode(), time.Since(start))
	})
}

// serve dispatches a request: the gateway's own endpoints, then media
// routes by longest prefix of the canonical path, then the upstream.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, "/.signgate/") {
		r, done := g.limitEndpointBody(w, r)
		defer done()
		// The doors that check another request: a preflight there is the
		// original request's, for the door to decide about.
		if g.tracer.On() {
			g.nameEndpoint(r)
		}
		switch {
		case path == PathForwardAuth:
			g.serveForwardAuth(w, r)
			return
		case strings.HasPrefix(path, PathExtAuthz+"/"):
			g.serveExtAuthz(w, r)
			return
		}
		if isPreflight(r) {
			setKind(w, kindCORS)
			g.cors.preflight(w, r)
			return
		}
		switch path {
		case PathSign:
			g.serveSign(w, r)
		case PathAuth:
			g.serveAuth(w, r)
		default:
			g.writeError(w, r, ErrNotFound)
		}
		return
	}
	if path == PathHealthz || path == PathReadyz {
		httpx.RefuseBody(w, r)
		g.serveHealth(w, r)
		return
	}
	rt, p, err := g.routes.lookup(r)
	if rt != nil || err != nil { // media reads no body (bodies.go)
		httpx.RefuseBody(w, r)
	}
	if g.tracer.On() {
		nameRoute(r, rt)
	}
	switch {
	case err != nil:
		g.writeError(w, r, err)
	case rt == nil:
		g.servePassthrough(w, r)
	case isPreflight(r):
		setKind(w, kindCORS)
		g.cors.preflight(w, r)
	default:
		g.serveMedia(w, r, rt, p)
	}
}

// servePassthrough hands r to the upstream, with the principal (if the
// cheap authenticators find one) in its context for Rewrite to name.
func (g *Gateway) servePassthrough(w http.ResponseWriter, r *http.Request) {
	setKind(w, kindPassthrough)
	if g.passthrough == nil {
		g.writeError(w, r, ErrNotFound)
		return
	}
	r, done := g.bodyPace().Guard(w, r) // bodies.go
	defer done()
	if g.idChain != nil {
		if p, err := g.idChain.Authenticate(r); err == nil {
			r = r.WithContext(NewContextWithPrincipal(r.Context(), p))
		}
	}
	g.passthrough.ServeHTTP(w, r)
}
