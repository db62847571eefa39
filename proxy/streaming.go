package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// streamMode is how a route serves HLS and DASH (the route's Streaming setting).
type streamMode uint8

const (
	// streamOff: every path redirects; relative segment URLs in a
	// manifest lose the query token.
	streamOff streamMode = iota
	// streamCookie: every redirect also sets the Qencode-Auth-Token
	// cookie for the directory of the path.
	streamCookie
	// streamManifest: .m3u8 and .mpd paths are fetched from the CDN and
	// answered rewritten; other paths redirect.
	streamManifest
)

// stream is a route's HLS/DASH settings.
type stream struct {
	mode         streamMode
	cookieDomain string        // "" for a host-only cookie
	secure       bool          // the CDN base is https: the cookie is Secure
	cdn          *url.URL      // the CDN base: scheme, host, escaped path prefix
	maxBytes     int64         // manifest size limit
	timeout      time.Duration // manifest fetch limit
}

// newStream reads route i's streaming settings. New may be handed a
// configuration LoadGateway never saw, so the checks that matter for
// serving are repeated here.
func newStream(i int, rc config.Route, base signer.Base) (stream, error) {
	st := stream{maxBytes: rc.ManifestMaxBytes, timeout: rc.ManifestTimeout}
	switch rc.Streaming {
	case config.StreamingOff, "":
		st.mode = streamOff
	case config.StreamingCookie:
		st.mode = streamCookie
	case config.StreamingManifest:
		st.mode = streamManifest
	default:
		return st, routeErrf(i, "STREAMING", "%q, want off, cookie or manifest", rc.Streaming)
	}
	u, err := url.Parse(base.String())
	if err != nil {
		return st, routeErr(i, "CDN_BASE", err)
	}
	st.cdn = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	st.secure = u.Scheme == "https"
	if rc.CookieDomain != "" {
		if st.cookieDomain, err = config.CookieDomain(rc.CookieDomain); err != nil {
			return st, routeErr(i, "COOKIE_DOMAIN", err)
		}
	}
	if st.mode == streamManifest && st.maxBytes <= 0 {
		return st, routeErrf(i, "MANIFEST_MAX_BYTES", "%d, must be positive", st.maxBytes)
	}
	if st.mode == streamManifest && st.timeout <= 0 {
		return st, routeErrf(i, "MANIFEST_TIMEOUT", "%s, must be positive", st.timeout)
	}
	return st, nil
}

// cdnPath is the escaped path prefix of the CDN base: "" or "/prefix".
func (st *stream) cdnPath() string { return st.cdn.EscapedPath() }

// manifestFormat says which parser a manifest path needs.
type manifestFormat uint8

const (
	formatNone manifestFormat = iota
	formatHLS
	formatDASH
)

func (f manifestFormat) String() string {
	switch f {
	case formatHLS:
		return "hls"
	case formatDASH:
		return "dash"
	}
	return "none"
}

// contentType is the type of a rewritten manifest.
func (f manifestFormat) contentType() string {
	if f == formatDASH {
		return "application/dash+xml"
	}
	return "application/vnd.apple.mpegurl"
}

// formatOf returns the manifest format of canonical path p by its
// extension, .m3u8 or .mpd in any case, or formatNone.
func formatOf(p string) manifestFormat {
	switch {
	case len(p) >= 5 && strings.EqualFold(p[len(p)-5:], ".m3u8"):
		return formatHLS
	case len(p) >= 4 && strings.EqualFold(p[len(p)-4:], ".mpd"):
		return formatDASH
	}
	return formatNone
}

// gatewayPath returns the gateway path that serves bucket path bp: bp
// itself, or under the prefix when the route strips it.
func (rt *route) gatewayPath(bp string) string {
	if !rt.strip || rt.prefix == "/" {
		return bp
	}
	if bp == "/" {
		return rt.prefix
	}
	return rt.prefix + bp
}

// manifestBase is the URL that the URIs of the manifest at bucket path bp,
// fetched as resp, resolve against: where it was found, token aside. A
// token rides in the query, dropped here, or in the path (Bunny's path
// form), where it is no directory of the bucket: so without a redirect
// the base is the manifest's unsigned URL on the CDN, and after one it is
// where the CDN sent the fetch (on its own host: the client checked).
func (st *stream) manifestBase(resp *http.Response, bp string) url.URL {
	base := *resp.Request.URL
	if resp.Request.Response == nil { // no redirect
		if u, err := url.Parse(st.cdnPath() + signer.EscapePath(bp)); err == nil {
			base = *st.cdn
			base.Path, base.RawPath = u.Path, u.RawPath
		}
	}
	base.RawQuery, base.ForceQuery, base.Fragment, base.RawFragment = "", false, "", ""
	return base
}

// sameOrigin reports whether u is on the scheme and host of the CDN base
// (host case and default ports aside).
func sameOrigin(u, cdn *url.URL) bool {
	return strings.EqualFold(u.Scheme, cdn.Scheme) &&
		strings.EqualFold(hostPort(u), hostPort(cdn))
}

// hostPort returns u's host with the scheme's default port dropped.
func hostPort(u *url.URL) string {
	h := u.Host
	switch {
	case strings.EqualFold(u.Scheme, "https") && strings.HasSuffix(h, ":443"):
		return h[:len(h)-4]
	case strings.EqualFold(u.Scheme, "http") && strings.HasSuffix(h, ":80"):
		return h[:len(h)-3]
	}
	return h
}

// streamState is what the gateway keeps for HLS and DASH: the client that
// fetches manifests from CDNs, the turns of manifest rewriting, and
// whether a route sets streaming cookies (which pass-through then keeps
// from the upstream app).
type streamState struct {
	cdn        *http.Client
	transport  *http.Transport
	turns      chan struct{} // one token per manifest being fetched and rewritten
	dropCookie bool
	badTurns   bool // turns is unusable and a route needs it
}

// newStreamState returns the state for at most concurrency manifest
// rewrites at once (Config.ManifestConcurrency).
func newStreamState(concurrency int) streamState {
	c, t := newCDNClient()
	return streamState{cdn: c, transport: t, turns: make(chan struct{}, max(concurrency, 0))}
}

// add wires route rt's streaming metrics and notes its mode. A route in
// manifest mode needs at least one turn: New may be handed a
// configuration LoadGateway never saw.
func (s *streamState) add(rt *route, m *metrics) error {
	rt.cookies = m.streaming.cookies.WithLabelValues(rt.name)
	s.dropCookie = s.dropCookie || rt.stream.mode == streamCookie
	if rt.stream.mode == streamManifest && cap(s.turns) == 0 && !s.badTurns {
		s.badTurns = true
		return settingErr("MANIFEST_CONCURRENCY", errors.New("must be positive with a route in manifest mode"))
	}
	return nil
}

// turn waits for a turn to fetch and rewrite a manifest, until ctx ends.
// It returns the function that gives the turn back, or ErrBusy when ctx
// ran out (the manifest timeout), errClientGone when the client left.
func (s *streamState) turn(ctx, client context.Context) (func(), error) {
	release := func() { <-s.turns }
	select {
	case s.turns <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case s.turns <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		if client.Err() != nil {
			return nil, fmt.Errorf("%w: waiting for a manifest turn", errClientGone)
		}
		return nil, fmt.Errorf("%w: all %d manifest turns taken for the manifest timeout", ErrBusy, cap(s.turns))
	}
}

// close drops the idle connections to CDNs.
func (s *streamState) close() { s.transport.CloseIdleConnections() }

// errRedirectOffCDN stops the manifest client from following a redirect
// to another host: our token must never leave the CDN.
var errRedirectOffCDN = fmt.Errorf("%w: the CDN redirected off its own host", ErrCDN)

// newCDNClient returns the client that fetches manifests from CDNs. It
// sends no client headers (no cookie, no Authorization: requests are
// built from scratch), follows at most three redirects and only on the
// same scheme and host, and honours HTTPS_PROXY for egress.
func newCDNClient() (*http.Client, *http.Transport) {
	t := newTransport()
	t.Proxy = http.ProxyFromEnvironment
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 64, 64
	t.DisableCompression = false // manifests compress well; the limit applies to the decoded bytes
	t.ForceAttemptHTTP2 = true
	return &http.Client{
		Transport: t,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || !sameOrigin(req.URL, via[0].URL) {
				return errRedirectOffCDN
			}
			return nil
		},
	}, t
}

// streamMetrics count manifest rewrites and streaming cookies. Labels are
// route names, formats, kinds and status codes: never a path or a token.
type streamMetrics struct {
	rewrites *prometheus.CounterVec // route, format, outcome
	uris     *prometheus.CounterVec // route, kind
	cookies  *prometheus.CounterVec // route
}

func newStreamMetrics(reg *prometheus.Registry) streamMetrics {
	m := streamMetrics{
		rewrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signgate_manifest_rewrites_total",
			Help: "Manifests served in manifest mode, by route, format (hls, dash) and outcome (ok, or the error code answered).",
		}, []string{"route", "format", "outcome"}),
		uris: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signgate_manifest_uris_total",
			Help: "URIs rewritten in manifests, by route and kind: media (signed), template (DASH, directory signed), playlist (back through the gateway), foreign (another host, left alone).",
		}, []string{"route", "kind"}),
		cookies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signgate_stream_cookies_total",
			Help: "Qencode-Auth-Token cookies set in cookie mode, by route.",
		}, []string{"route"}),
	}
	reg.MustRegister(m.rewrites, m.uris, m.cookies)
	return m
}

// manifestDone records one manifest request: its outcome, and the URIs of
// a manifest that was rewritten.
func (m *metrics) manifestDone(route string, f manifestFormat, counts uriCounts, err error) {
	outcome := "ok"
	if err != nil {
		outcome = status(err).Code
	}
	m.streaming.rewrites.WithLabelValues(route, f.String(), outcome).Inc()
	if err != nil {
		return
	}
	for k, name := range uriKindNames() {
		if counts[k] > 0 {
			m.streaming.uris.WithLabelValues(route, name).Add(float64(counts[k]))
		}
	}
}
