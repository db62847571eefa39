package proxy

import (
	"errors"
	"fmt"
	"github.com/signgate/signgate/internal/httpx"
	"net/http"
	"strings"
)

// Paths of the check endpoints, one per front door family (docs/gateway.md,
// "Front doors"). The Envoy gRPC check has its own listener (extauthz.go).
const (
	// PathAuth answers 200 or 401/403/503 and nothing else: nginx
	// auth_request, ingress-nginx auth-url, Caddy forward_auth.
	PathAuth = "/.signgate/auth"
	// PathForwardAuth answers what the gateway would answer the original
	// request, a 302 to the CDN included: Traefik ForwardAuth, which hands
	// a non-2xx answer to the client as it is.
	PathForwardAuth = "/.signgate/forward-auth"
	// PathExtAuthz is the path_prefix of Envoy's HTTP ext_authz, which
	// appends the original path: 200 on allow (Envoy denies on anything
	// else), 401/403/503 otherwise.
	PathExtAuthz = "/.signgate/ext-authz"
)

// serveAuth is the auth-request door: 200 with the subject in the subject
// header, or 401 (403, 503) as JSON. When a trusted proxy names the
// original request (originalURI), that path's route requirements are
// checked too.
func (g *Gateway) serveAuth(w http.ResponseWriter, r *http.Request) {
	setKind(w, kindAuth)
	o, err := g.originalURI(r)
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	target := r
	if o.uri != "" {
		if target, err = targetRequest(r, o.uri, o.method); err != nil {
			g.writeError(w, r, err)
			return
		}
	}
	g.answerAuth(w, target, o.uri != "")
}

// serveExtAuthz is Envoy's HTTP ext_authz door: the original path (with
// its query) follows PathExtAuthz in the request line, and the method is
// the original one. Envoy takes exactly 200 as allow. The path is the
// request's own, so no header names it and no trust is needed; a client
// that calls this endpoint itself learns only its own answer.
func (g *Gateway) serveExtAuthz(w http.ResponseWriter, r *http.Request) {
	setKind(w, kindAuth)
	rest, ok := strings.CutPrefix(r.RequestURI, PathExtAuthz)
	if !ok || !strings.HasPrefix(rest, "/") {
		g.writeError(w, r, fmt.Errorf("%w: the original path must follow %s", ErrBadRequest, PathExtAuthz))
		return
	}
	target, err := targetRequest(r, rest, "")
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	g.answerAuth(w, target, true)
}

// serveForwardAuth is Traefik's ForwardAuth door: X-Forwarded-Uri (and
// -Method) from a trusted proxy name the original request, and the answer
// is the gateway's own (answerGateway): Traefik returns any non-2xx
// answer to the client as it is, so the 302 to the CDN, the login
// redirect and 401 JSON reach the client unchanged.
func (g *Gateway) serveForwardAuth(w http.ResponseWriter, r *http.Request) {
	setKind(w, kindAuth)
	o, err := g.originalURI(r)
	if err == nil && o.uri == "" {
		err = fmt.Errorf("%w: %s needs the original URI (X-Forwarded-Uri) from a trusted proxy", ErrBadRequest, PathForwardAuth)
	}
	var target *http.Request
	if err == nil {
		target, err = targetRequest(r, o.uri, o.method)
	}
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	if pr, ok := g.answerGateway(w, target); ok {
		g.allow(w, pr)
	}
}

// answerAuth is the decision of the 200-only doors about target t:
// authenticate with the whole chain, then, when routed (the door named a
// path), check the requirements of t's media route. It answers errors as
// JSON and an allow as 200.
func (g *Gateway) answerAuth(w http.ResponseWriter, t *http.Request, routed bool) {
	pr, err := g.chain.Authenticate(t)
	if err != nil {
		g.writeError(w, t, err)
		return
	}
	if routed {
		rt, _, err := g.routes.lookup(t)
		if err != nil {
			g.writeError(w, t, err)
			return
		}
		if rt != nil {
			if err := authorize(pr, rt.require); err != nil {
				g.writeError(w, t, err)
				return
			}
		}
	}
	g.allow(w, pr)
}

// answerGateway decides about target t exactly as the gateway decides
// about the same request, and writes that answer to w, except an allow:
// on a media route it is serveMedia itself (the signed redirect, with the
// cookie in cookie mode, the manifest in manifest mode, the login
// redirect or 401 JSON when not authenticated, 503 when a backend fails);
// on any other path the request must authenticate with the whole chain
// (unauthenticated answers as on a media route), and the principal is
// returned with ok true for the door to allow in its own form.
func (g *Gateway) answerGateway(w http.ResponseWriter, t *http.Request) (pr Principal, ok bool) {
	rt, p, err := g.routes.lookup(t)
	switch {
	case err != nil:
		g.writeError(w, t, err)
		return Principal{}, false
	case rt != nil && isPreflight(t):
		// A door's 2xx is an allow (Traefik forwards the request on):
		// a preflight the gateway would not allow is refused, not 204.
		if !g.cors.c.Preflight(http.Header{}, t) {
			g.writeError(w, t, httpx.Errorf(http.StatusForbidden, "cors_refused", "this cross-origin request is not allowed", errors.New("preflight from an origin or for a method not allowed")))
			return Principal{}, false
		}
		g.cors.preflight(w, t)
		return Principal{}, false
	case rt != nil:
		g.serveMedia(w, t, rt, p)
		return Principal{}, false
	}
	pr, err = g.chain.Authenticate(t)
	if err != nil {
		g.unauthenticated(w, t, err)
		return Principal{}, false
	}
	return pr, true
}

// allow answers 200 with the subject in the subject header.
func (g *Gateway) allow(w http.ResponseWriter, pr Principal) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if pr.Subject != "" {
		h.Set(g.subjectHeader, pr.Subject)
	}
	w.WriteHeader(http.StatusOK)
}
