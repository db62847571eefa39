package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/signgate/signgate/internal/manifest"
	"github.com/signgate/signgate/signer"
)

// Limits of one manifest rewrite, beyond the route's size limit.
const (
	// maxManifestScopes bounds the directories (so the RSA signatures on
	// a cold cache) one manifest may need tokens for.
	maxManifestScopes = 16
	// manifestGrowth bounds the rewritten URIs of a manifest to this many
	// times the route's size limit, so that a manifest of tiny relative
	// URIs cannot swell into signed URLs without end.
	manifestGrowth = 8
	// maxReasonLen bounds the edge's reason header quoted in a log line.
	maxReasonLen = 64
)

// serveManifest answers a request for an HLS playlist or a DASH MPD in
// manifest mode, once the request is authenticated and authorized: fetch
// it from the CDN with the directory's token, rewrite every URI, and
// answer 200 with a private, never cached body. Failures go through
// status: 404 when the CDN has no such manifest, 502 with a reason when
// the CDN refuses or fails or the manifest is malformed or too large, 503
// with Retry-After when no turn came free in time, 504 when the CDN is too
// slow.
func (g *Gateway) serveManifest(w http.ResponseWriter, r *http.Request, rt *route, bp string, f manifestFormat, pr *Principal) {
	setKind(w, kindManifest)
	body, counts, err := g.rewriteManifest(r, rt, bp, f, pr)
	g.metrics.manifestDone(rt.name, f, counts, err)
	if err != nil {
		if errors.Is(err, errClientGone) {
			w.WriteHeader(statusClientClosed)
			return
		}
		if errors.Is(err, ErrBusy) {
			w.Header().Set("Retry-After", "1")
		}
		g.writeError(w, r, err)
		return
	}
	h := w.Header()
	h["Content-Type"] = []string{f.contentType()}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	h["Cache-Control"] = g.hdrNoStore
	h["Referrer-Policy"] = g.hdrNoReferrer
	h["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// rewriteManifest fetches the manifest at bucket path bp from the route's
// CDN and returns it rewritten, with the count of URIs by kind. It waits
// for a turn first (Config.ManifestConcurrency): the wait and the
// fetch share the route's manifest timeout. Every claim comes from grant,
// for principal pr.
func (g *Gateway) rewriteManifest(r *http.Request, rt *route, bp string, f manifestFormat, pr *Principal) ([]byte, uriCounts, error) {
	var counts uriCounts
	s := rt.currentSigner()
	if s == nil {
		return nil, counts, fmt.Errorf("route %s: %w", rt.name, ErrNoKey)
	}
	ctx, cancel := context.WithTimeout(r.Context(), rt.stream.timeout)
	defer cancel()
	done, err := g.streams.turn(ctx, r.Context())
	if err != nil {
		return nil, counts, fmt.Errorf("route %s: manifest %s: %w", rt.name, bp, err)
	}
	defer done()
	scope, err := g.grant(rt, bp, reachDir, pr)
	if err != nil {
		return nil, counts, err
	}
	m := &rewriter{
		ctx: r.Context(), g: g, rt: rt, signer: s, pr: copyPrincipal(pr),
		scope:  grantOf(reachDir, scope, bp),
		tokens: make(map[signer.Grant]signer.Token, 2),
		budget: manifestGrowth * rt.stream.maxBytes,
	}
	tok, err := m.token(m.scope)
	if err != nil {
		return nil, counts, err
	}
	src, err := s.URL(bp, r.URL.RawQuery, tok)
	if err != nil {
		return nil, counts, fmt.Errorf("route %s: %w", rt.name, err)
	}
	resp, err := g.fetchManifest(ctx, r.Context(), src, f, rt.stream.maxBytes)
	if err != nil {
		return nil, counts, fmt.Errorf("route %s: manifest %s: %w", rt.name, bp, err)
	}
	defer resp.Body.Close()
	base := rt.stream.manifestBase(resp, bp)
	var out []byte
	body := readErrors{resp.Body}
	switch f {
	case formatHLS:
		out, err = manifest.HLS(body, &base, rt.stream.maxBytes, m.rewrite)
	default:
		out, err = manifest.DASH(body, &base, rt.stream.maxBytes, m.rewrite)
	}
	var re *readError
	if errors.As(err, &re) {
		err = fetchErr(ctx, r.Context(), re.err)
	}
	if err != nil {
		return nil, m.counts, fmt.Errorf("route %s: manifest %s: %w", rt.name, bp, err)
	}
	return out, m.counts, nil
}

// copyPrincipal returns a copy of *pr (nil for nil), so that a rewriter
// holding it does not move the caller's principal to the heap.
func copyPrincipal(pr *Principal) *Principal {
	if pr == nil {
		return nil
	}
	c := *pr
	return &c
}

// readErrors marks the errors of reading a CDN response, so that they can
// be told from the parser's and the rewriter's.
type readErrors struct{ r io.Reader }

func (b readErrors) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &readError{err}
	}
	return n, err
}

type readError struct{ err error }

func (e *readError) Error() string { return "read from the CDN: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// fetchManifest GETs src (a signed CDN URL) with a request built from
// scratch: no header of the client's reaches the CDN. It returns the
// response of a 200, or an error for any other answer, which never holds
// the URL (and so the token).
func (g *Gateway) fetchManifest(ctx, client context.Context, src string, f manifestFormat, limit int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: build request: %w", ErrCDN, stripURL(err))
	}
	req.Header.Set("Accept", f.contentType()+", */*;q=0.5")
	req.Header.Set("User-Agent", "signgate")
	resp, err := g.streams.cdn.Do(req)
	if err != nil {
		return nil, fetchErr(ctx, client, err)
	}
	if resp.StatusCode == http.StatusOK {
		if resp.ContentLength > limit {
			resp.Body.Close()
			return nil, fmt.Errorf("%w: Content-Length %d", manifest.ErrTooLarge, resp.ContentLength)
		}
		return resp, nil
	}
	// Drain a little so the connection can be reused, then close.
	io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusNotFound || code == http.StatusGone:
		return nil, fmt.Errorf("%w: the CDN answered %d", ErrNotFound, code)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return nil, fmt.Errorf("%w: %d, reason %q", ErrCDNRefused, code, reason(resp.Header.Get("X-Signgate-Reason")))
	default:
		return nil, fmt.Errorf("%w: the CDN answered %d", ErrCDN, code)
	}
}

// fetchErr classifies an error of the fetch or of reading the body: the
// client left, the fetch timed out, or the CDN could not be reached (or
// redirected off its host). The URL (and its token) in a *url.Error is
// dropped.
func fetchErr(ctx, client context.Context, err error) error {
	err = stripURL(err)
	switch {
	case client.Err() != nil:
		return fmt.Errorf("%w: %w", errClientGone, err)
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ErrCDNTimeout, err)
	case errors.Is(err, ErrCDN):
		return err
	}
	return fmt.Errorf("%w: %w", ErrCDN, err)
}

// stripURL returns err without the URL a *url.Error quotes.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// reason returns the edge's reason header fit for a log line: short and
// printable.
func reason(s string) string {
	if len(s) > maxReasonLen {
		s = s[:maxReasonLen]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// uriCounts counts a manifest's URIs by what became of them.
type uriCounts [numURIKinds]int

// What became of a URI, the "kind" label of signgate_manifest_uris_total.
const (
	uriMedia    = iota // signed absolute CDN URL
	uriTemplate        // DASH SegmentTemplate, its directory signed
	uriPlaylist        // child playlist, back through the gateway
	uriForeign         // on another host: left alone, no token
	numURIKinds
)

func uriKindNames() [numURIKinds]string {
	return [numURIKinds]string{"media", "template", "playlist", "foreign"}
}

// rewriter rewrites one manifest of route rt: one per request, not shared.
type rewriter struct {
	ctx    context.Context // the request's, for the token cache's spans
	g      *Gateway
	rt     *route
	signer signer.Signer
	pr     *Principal                    // whom the claims are for (nil: anonymous)
	scope  signer.Grant                  // the grant of the manifest's directory
	tokens map[signer.Grant]signer.Token // tokens by grant, for this manifest
	budget int64                         // bytes of rewritten URIs still allowed
	counts uriCounts
}

// token returns the token for grant scope, from the manifest's own map,
// else the cache (which mints on a miss).
func (m *rewriter) token(scope signer.Grant) (signer.Token, error) {
	if tok, ok := m.tokens[scope]; ok {
		return tok, nil
	}
	if len(m.tokens) >= maxManifestScopes {
		return signer.Token{}, fmt.Errorf("%w: URIs in more than %d directories", manifest.ErrTooLarge, maxManifestScopes)
	}
	tok, _, err := m.g.mint(m.ctx, m.rt, m.signer, scope)
	if err != nil {
		m.g.metrics.signErrors.Inc()
		return signer.Token{}, fmt.Errorf("route %s: %w", m.rt.name, err)
	}
	m.tokens[scope] = tok
	return tok, nil
}

// rewrite is the manifest.Rewriter: ref is absolute, resolved against the
// manifest's CDN URL.
//
//   - On another scheme or host: left as it is, absolute, without a
//     token (ours must never leave the CDN).
//   - A child playlist: the root-relative gateway path, so the player
//     asks the gateway it used (whatever its Host said) and that playlist
//     is rewritten too.
//   - Media: the signed absolute CDN URL, with the token of the
//     manifest's directory when it covers the file, else of the file's
//     own directory.
//   - A DASH SegmentTemplate: its path up to the last "/" before the first
//     "$" identifier is the directory signed; the rest stays as written.
//
// A URI on the CDN must stay inside this route: one whose gateway path
// would belong to another route, or to none, is refused, since the user
// was authorized for this route only.
func (m *rewriter) rewrite(ref *url.URL, kind manifest.Kind) (string, error) {
	st := &m.rt.stream
	if !sameOrigin(ref, st.cdn) {
		m.counts[uriForeign]++
		return ref.String(), nil
	}
	if ref.User != nil {
		return "", fmt.Errorf("%w: user info in a CDN URI", ErrManifestURI)
	}
	rel, ok := strings.CutPrefix(ref.EscapedPath(), st.cdnPath())
	if !ok || rel != "" && rel[0] != '/' {
		return "", fmt.Errorf("%w: a CDN URI outside the base path", ErrManifestURI)
	}
	// dir is the path to sign; tail, when not empty, follows it as written.
	dir, tail := rel, ""
	switch {
	case kind == manifest.Template:
		cut := len(rel)
		if i := strings.IndexByte(rel, '$'); i >= 0 {
			cut = i
		}
		i := strings.LastIndexByte(rel[:cut], '/')
		if i < 0 {
			return "", fmt.Errorf("%w: a template without a directory", ErrManifestURI)
		}
		dir, tail = rel[:i], rel[i:]
	case strings.HasSuffix(rel, "/") || rel == "":
		if kind == manifest.Playlist {
			return "", fmt.Errorf("%w: a child playlist names a directory", ErrManifestURI)
		}
		dir, tail = strings.TrimSuffix(rel, "/"), "/"
	}
	p := "/"
	if dir != "" {
		var err error
		if p, err = signer.CanonicalPath(dir); err != nil {
			return "", fmt.Errorf("%w: %w", ErrManifestURI, err)
		}
	}
	gp := m.rt.gatewayPath(p)
	if m.g.routes.match(gp) != m.rt {
		return "", fmt.Errorf("%w: %s is outside route %s", ErrManifestURI, gp, m.rt.name)
	}
	var out string
	if kind == manifest.Playlist {
		q, err := m.rt.dropQuery(ref.RawQuery)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrManifestURI, err)
		}
		out = signer.EscapePath(gp)
		if q != "" {
			out += "?" + q
		}
		m.counts[uriPlaylist]++
	} else {
		scope, err := m.scopeOf(p, tail != "")
		if err != nil {
			return "", err
		}
		tok, err := m.token(scope)
		if err != nil {
			return "", err
		}
		u, err := m.signer.URL(p, ref.RawQuery, tok)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrManifestURI, err)
		}
		if tail != "" {
			pth, _, _ := strings.Cut(u, "?")
			u = strings.TrimSuffix(pth, "/") + tail + u[len(pth):]
		}
		if kind == manifest.Template {
			m.counts[uriTemplate]++
		} else {
			m.counts[uriMedia]++
		}
		out = u
	}
	if ref.Fragment != "" {
		out += "#" + ref.EscapedFragment()
	}
	if m.budget -= int64(len(out)); m.budget < 0 {
		return "", fmt.Errorf("%w: rewritten URIs over %d bytes", manifest.ErrTooLarge, manifestGrowth*m.rt.stream.maxBytes)
	}
	return out, nil
}

// scopeOf returns the uri claim to sign canonical bucket path p with: the
// manifest's own claim when it covers p; else what grantBeside gives for
// p's directory, or for p itself when p is a directory (isDir): grant
// narrows a directory that holds another route's space, down to the
// file, and refuses a directory URI that does, or any URI outside the
// manifest's claim for a principal of forward-auth.
func (m *rewriter) scopeOf(p string, isDir bool) (signer.Grant, error) {
	if m.scope.Covers(p) {
		return m.scope, nil
	}
	want := reachDir
	if isDir {
		want = reachTree
	}
	scope, err := m.g.grantBeside(m.rt, p, want, m.pr, m.scope.Path)
	if err != nil {
		return signer.Grant{}, fmt.Errorf("%w: %w", ErrManifestURI, err)
	}
	return grantOf(want, scope, p), nil
}
