package proxy

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/signgate/signgate/internal/httpx"
	"github.com/signgate/signgate/signer"
)

// CookieName is the signed cookie of Qencode's CDN, which the edge reads
// too: a token for a directory, sent by the browser with every request for
// a segment under it.
const CookieName = signer.QencodeCookie

// setStreamCookie adds to w the scheme's signed cookies (Qencode's
// Qencode-Auth-Token, CloudFront's three) for the
// directory of bucket path bp (cookie mode): the directory's token from
// the cache, Path = that directory on the CDN, on the configured domain
// (host-only when none), Secure when the CDN or the gateway is https, HttpOnly,
// SameSite=Lax, expiring with the token. The claim comes from grant, for
// principal pr. Nothing is added on error, nor when grant narrowed the
// claim below the directory (it holds another route's space): a cookie
// for one file serves no segment.
func (g *Gateway) setStreamCookie(ctx context.Context, w http.ResponseWriter, rt *route, bp string, pr *Principal) error {
	s := rt.currentSigner()
	if s == nil {
		return fmt.Errorf("route %s: %w", rt.name, ErrNoKey)
	}
	scope, err := g.grant(rt, bp, reachDir, pr)
	if err != nil {
		return err
	}
	if scope != signer.ScopeDir.URI(bp) {
		g.log.Warn("no streaming cookie: the directory holds another route's space", "route", rt.name, "path", bp)
		return nil
	}
	tok, exp, err := g.mint(ctx, rt, s, grantOf(reachDir, scope, bp))
	if err != nil {
		g.metrics.signErrors.Inc()
		return fmt.Errorf("route %s: %w", rt.name, err)
	}
	cookies, err := s.Cookies(tok)
	if err != nil {
		return fmt.Errorf("route %s: %w", rt.name, err)
	}
	var vs []string
	for _, c := range cookies {
		c.Path = cookiePath(rt.stream.cdnPath(), scope)
		c.Domain = rt.stream.cookieDomain
		c.Expires = exp.UTC()
		c.MaxAge = maxAge(exp, g.opts.Now())
		c.Secure = rt.stream.secure || httpx.SecureContext(ctx) // the CDN, or this gateway, is https
		c.HttpOnly = true
		c.SameSite = http.SameSiteLaxMode
		v := c.String()
		if v == "" {
			return fmt.Errorf("route %s: cannot write the %s cookie", rt.name, c.Name)
		}
		vs = append(vs, v)
	}
	h := w.Header()
	h["Set-Cookie"] = append(h["Set-Cookie"], vs...)
	rt.cookies.Inc()
	return nil
}

// cookiePath returns the cookie Path for a token whose uri claim is scope,
// on a CDN whose escaped path prefix is prefix: the directory as the
// browser will send it, escaped and without a trailing slash, so that it
// matches the directory and everything below it at a "/" boundary, as
// the claim does. A ";" cannot stand in a cookie attribute, so a path
// holding one is cut back to the directory above its first ";": a wider
// Path only sends the cookie to more URLs, and the token's scope still
// decides.
func cookiePath(prefix, scope string) string {
	p := prefix
	if scope != "" && scope != "/" {
		p += signer.EscapePath(scope)
	}
	if i := strings.IndexByte(p, ';'); i >= 0 {
		p = p[:strings.LastIndexByte(p[:i], '/')]
	}
	if p == "" {
		return "/"
	}
	return p
}

// maxAge is the Max-Age of a cookie expiring at exp: whole seconds, at
// least one.
func maxAge(exp, now time.Time) int {
	s := int((exp.Sub(now) + time.Second - 1) / time.Second)
	return max(s, 1)
}
