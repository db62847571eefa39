package proxy

import (
	"context"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/signgate/signgate/internal/tracing"
	"github.com/signgate/signgate/signer"
)

// The spans of the gateway, when Options.TracerProvider turns tracing on
// (docs/gateway.md, "Tracing"). The request's server span is named
// "METHOD media ROUTE", "METHOD passthrough" or "METHOD /.signgate/...",
// never after a raw path.
const (
	SpanAuthPrefix    = "auth."              // + the authenticator: auth.header, auth.jwt, auth.forward
	SpanForwardCheck  = "forward_auth.check" // the check URL's round trip (client)
	SpanTokenCache    = "token_cache"        // signgate.token_cache.hit says hit or miss
	SpanSign          = "sign"               // a signature: on a miss this request signs, or ahead (a trace of its own)
	SpanManifestFetch = "manifest.fetch"     // the CDN round trip of manifest mode (client)
	SpanUpstream      = "upstream"           // the pass-through round trip (client)
)

// Attributes of the gateway's spans: names and counts, never a token, a
// cookie or a key.
const (
	AttrRoute     = attribute.Key("signgate.route")
	AttrVerdict   = attribute.Key("signgate.auth.verdict")
	AttrCacheHit  = attribute.Key("signgate.token_cache.hit")
	AttrKeyID     = attribute.Key("signgate.key_id")
	AttrAhead     = attribute.Key("signgate.token_cache.ahead") // on a sign span: a refresh ahead
	attrRouteSpan = attribute.Key("http.route")
)

// nameEndpoint names the request span of one of the gateway's endpoints
// (a fixed path; the rest of an ext_authz path is the checked request's).
func (g *Gateway) nameEndpoint(r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, PathExtAuthz+"/"):
		p = PathExtAuthz
	case p != PathForwardAuth && p != PathSign && p != PathAuth:
		p = "/.signgate/*"
	}
	tracing.Rename(r.Context(), tracing.Method(r.Method)+" "+p, attrRouteSpan.String(p))
}

// nameRoute names the request span after its route: media, or pass-through
// (rt nil).
func nameRoute(r *http.Request, rt *route) {
	switch {
	case rt != nil:
		tracing.Rename(r.Context(), tracing.Method(r.Method)+" media "+rt.name, AttrRoute.String(rt.name), attrRouteSpan.String(rt.prefix))
	case r.URL.Path == PathHealthz || r.URL.Path == PathReadyz:
		tracing.Rename(r.Context(), tracing.Method(r.Method)+" "+r.URL.Path, attrRouteSpan.String(r.URL.Path))
	default:
		tracing.Rename(r.Context(), tracing.Method(r.Method)+" passthrough")
	}
}

// mint is the token cache's Mint for route rt, inside the token_cache span
// (hit or miss), and the signature, on a miss this call signs, inside the
// sign span. Off, it is Mint.
func (g *Gateway) mint(ctx context.Context, rt *route, s signer.Signer, gr signer.Grant) (signer.Token, time.Time, error) {
	if !g.tracer.On() {
		return g.cache.Mint(rt.name, s, gr, rt.life)
	}
	ctx, span := g.tracer.Start(ctx, SpanTokenCache)
	defer span.End()
	signed := false // written within MintWatched only: never by a refresh ahead
	tok, exp, err := g.cache.MintWatched(rt.name, s, gr, rt.life, func(ahead bool, sign func() (signer.Token, error)) (signer.Token, error) {
		var ss trace.Span
		if ahead {
			// In the background, maybe after this request ended: a trace
			// of its own, linked to the request that started it.
			_, ss = g.tracer.StartLinked(ctx, SpanSign)
			ss.SetAttributes(AttrAhead.Bool(true))
		} else {
			signed = true
			_, ss = g.tracer.Start(ctx, SpanSign)
		}
		defer ss.End()
		ss.SetAttributes(AttrRoute.String(rt.name), AttrKeyID.String(s.KeyID()))
		tok, err := sign()
		if err != nil {
			tracing.Fail(ss, "signature failed")
		}
		return tok, err
	})
	span.SetAttributes(AttrRoute.String(rt.name), AttrCacheHit.Bool(!signed && err == nil))
	if err != nil {
		tracing.Fail(span, "no token")
	}
	return tok, exp, err
}
