package proxy

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/signgate/signgate/internal/httpx"
	"github.com/signgate/signgate/internal/tracing"
)

// newTransport returns a transport tuned for keep-alive to one upstream:
// many idle connections to that host, no response timeout (streams and
// long polls are legitimate) and no transparent compression, so bodies
// pass byte for byte.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil, // the upstream is reached directly, whatever HTTP_PROXY says
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

// identityHeaders strips every spelling of the identity headers a client
// might send: any case, with "_" or "." for "-".
type identityHeaders struct {
	keys []string // normalised names: lower case, "-" only
}

func newIdentityHeaders(names ...string) identityHeaders {
	var ih identityHeaders
	for _, n := range names {
		if n != "" {
			ih.keys = append(ih.keys, normHeader(n))
		}
	}
	return ih
}

// normHeader lower-cases a header name and reads "_" and "." as "-".
func normHeader(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c == '_' || c == '.':
			b[i] = '-'
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// strip deletes from h every header that is an identity header in some
// spelling.
func (ih identityHeaders) strip(h http.Header) {
	for name := range h {
		if ih.is(name) {
			delete(h, name)
		}
	}
}

func (ih identityHeaders) is(name string) bool {
	for _, k := range ih.keys {
		if len(name) == len(k) && normHeader(name) == k {
			return true
		}
	}
	return false
}

// newPassthrough returns the reverse proxy to upstream. Hop-by-hop headers,
// including any the client names in Connection:, are removed before
// Rewrite runs, so the headers Rewrite sets reach the upstream:
// X-Forwarded-For/-Host/-Proto, and the subject header, set from the
// principal in the request context and from nowhere else.
func (g *Gateway) newPassthrough(upstream *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			g.identity.strip(pr.Out.Header)
			if g.streams.dropCookie { // streaming cookies are for the CDN (cookie.go)
				httpx.DropCookie(pr.Out.Header, CookieName)
			}
			g.setForwarded(pr)
			if p, ok := PrincipalFrom(pr.In.Context()); ok && p.Subject != "" {
				pr.Out.Header[g.subjectHeader] = []string{p.Subject}
			}
		},
		Transport:  g.tracer.Transport(g.transport, SpanUpstream, tracing.KeepPath),
		BufferPool: newBufferPool(),
		ErrorLog:   slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
		// status classifies the failure with httpx.Classify: a client
		// that left is 499 (logged at INFO), a timeout 504, a refused or
		// reset upstream 502.
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if cut := httpx.BodyCut(r); cut != nil { // a stalled body (bodies.go): 408
				httpx.WriteError(w, r, g.log, cut)
				return
			}
			httpx.WriteError(w, r, g.log, status(fmt.Errorf("%w: %w", ErrUpstream, err)))
		},
	}
}

// setForwarded sets X-Forwarded-For, -Host and -Proto. What a trusted proxy
// said is kept and extended; from anyone else it is replaced.
func (g *Gateway) setForwarded(pr *httputil.ProxyRequest) {
	in, out := pr.In, pr.Out
	ip, _, err := net.SplitHostPort(in.RemoteAddr)
	if err != nil {
		ip = in.RemoteAddr
	}
	trusted := g.trusted.Contains(in.RemoteAddr)
	xff := ip
	if prior := in.Header.Values("X-Forwarded-For"); trusted && len(prior) > 0 {
		xff = strings.Join(prior, ", ") + ", " + ip
	}
	out.Header.Set("X-Forwarded-For", xff)
	host, proto := in.Host, "http"
	if in.TLS != nil {
		proto = "https"
	}
	if trusted {
		if h := in.Header.Get("X-Forwarded-Host"); h != "" {
			host = h
		}
		if p := in.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
			proto = p
		}
	}
	out.Header.Set("X-Forwarded-Host", host)
	out.Header.Set("X-Forwarded-Proto", proto)
}

// bufferPool recycles the proxy's 32 KiB copy buffers, which it would
// otherwise allocate for every response.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (bp *bufferPool) Get() []byte { return *bp.p.Get().(*[]byte) }

func (bp *bufferPool) Put(b []byte) {
	if cap(b) == 32<<10 {
		bp.p.Put(&b)
	}
}
