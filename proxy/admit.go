package proxy

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/tracing"
	"github.com/signgate/signgate/proxy/auth"
)

// Authenticator and Principal are auth's: the gateway's chain is an
// auth.Chain (package auth holds the authenticators).
type (
	Authenticator = auth.Authenticator
	Principal     = auth.Principal
)

// GrantHeader names, in a forward-auth check, the gateway path that the
// token handed out on a yes will open (auth.ForwardOptions.Target).
const GrantHeader = auth.GrantHeader

// NewContextWithPrincipal returns a copy of ctx holding p.
func NewContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return auth.NewContextWithPrincipal(ctx, p)
}

// PrincipalFrom returns the principal stored in ctx by the gateway, and
// whether there is one.
func PrincipalFrom(ctx context.Context) (Principal, bool) { return auth.PrincipalFrom(ctx) }

// newChain is an auth.Chain of links that counts each verdict
// (signgate_auth_verdicts_total) and, with tracing on, spans each
// authenticator.
func (g *Gateway) newChain(links []auth.Link) *auth.Chain {
	verdicts := make([][auth.Verdicts]prometheus.Counter, len(links))
	spans := make([]string, len(links))
	for i, l := range links {
		for v := range auth.Verdicts {
			verdicts[i][v] = g.metrics.authVerdicts.WithLabelValues(l.Name, v.String())
		}
		spans[i] = SpanAuthPrefix + l.Name
	}
	h := auth.Hooks{Verdict: func(i int, v auth.Verdict) { verdicts[i][v].Inc() }}
	if tr := g.tracer; tr.On() {
		h.Around = func(r *http.Request, i int) (*http.Request, func(auth.Verdict)) {
			ctx, span := tr.Start(r.Context(), spans[i])
			return r.WithContext(ctx), func(v auth.Verdict) {
				span.SetAttributes(AttrVerdict.String(v.String()))
				if v == auth.VerdictError {
					tracing.Fail(span, "auth backend failed")
				}
				span.End()
			}
		}
	}
	return auth.NewChain(links, h)
}

// admit authenticates r for route rt and checks the route's claims. It
// returns the principal and true, or false on a public route, where
// nobody is asked. An error from the chain is returned as it is (the
// caller may send a browser to log in); a refused claim wraps
// ErrForbidden. The principal comes back by value: a pointer would put it
// on the heap of every request.
func (g *Gateway) admit(r *http.Request, rt *route) (Principal, bool, error) {
	if rt.public {
		return Principal{}, false, nil
	}
	p, err := g.chain.Authenticate(r)
	if err != nil {
		return Principal{}, false, err
	}
	if err := authorize(p, rt.require); err != nil {
		return Principal{}, false, fmt.Errorf("route %s, subject %q: %w", rt.name, p.Subject, err)
	}
	return p, true, nil
}

// authorize checks a route's required claims.
func authorize(p Principal, reqs []config.Requirement) error {
	for _, r := range reqs {
		if !p.HasClaim(r.Claim, r.Value) {
			return fmt.Errorf("%w: claim %q does not hold the required value", ErrForbidden, r.Claim)
		}
	}
	return nil
}
