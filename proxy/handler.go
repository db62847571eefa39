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
//  1. observe: the metrics (duration and count by handler kind and
//     status) and, when Config.AccessLog is on, the access line
//     (httpx.AccessLogger: the path but never the query, a cookie or
//     Authorization), from one recorder and one pair of clock reads;
//  2. h, the dispatcher (serve).
//
// Identity headers are not stripped by a middleware: the pass-through
// strips them inside Rewrite, after hop-by-hop removal, and nothing else
// reads them but the header authenticator, from trusted proxies only.
func (g *Gateway) middleware(h http.Handler) http.Handler {
	return g.tracer.Handler(g.observe(h), "gateway", nil)
}

// observe records the metrics of each request, and logs its line.
func (g *Gateway) observe(next http.Handler) http.Handler {
	access := httpx.NewAccessLogger(g.log, g.cfg.AccessLog)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		kr := &kindRecorder{Recorder: httpx.Recorder{ResponseWriter: w}, kind: kindError}
		next.ServeHTTP(kr, r)
		end := time.Now()
		d := end.Sub(start)
		g.metrics.observe(kr.kind, kr.StatusCode(), d)
		access.Log(r, &kr.Recorder, end, d)
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
