package edge

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/signgate/signgate/internal/httpx"
	"github.com/signgate/signgate/signer"
)

// Handler returns the media handler: Host to bucket, policy, token check,
// then the file from the bucket's origin. Its middleware, outermost first:
// tracing when on, the metrics and the access line (measure; the line
// never shows a query or a cookie), refusing any request body
// (bodies.go), CORS, then serveMedia.
func (e *Edge) Handler() http.Handler {
	h := e.measure(httpx.RefuseBodies(e.cors(http.HandlerFunc(e.serveMedia))))
	return e.tracer.Handler(h, "edge", nil) // tracing.go
}

func (e *Edge) serveMedia(rw http.ResponseWriter, r *http.Request) {
	w, ok := rw.(*mediaWriter)
	if !ok { // not reached through measure
		w = e.newMediaWriter(rw, r)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, r, e.log, fmt.Errorf("%w: %s", ErrMethod, truncate(r.Method)))
		return
	}
	b, p := w.bucket, w.path
	if b == nil {
		writeError(w, r, e.log, fmt.Errorf("%w: host %q", ErrUnknownBucket, truncate(r.Host)))
		return
	}
	if w.pathErr != nil {
		writeError(w, r, e.log, w.pathErr)
		return
	}
	w.fileType = contentType(p)
	if e.tracer.On() {
		nameMedia(r, b)
	}
	s := e.snap.Load()
	private := b.stream || s.policy(b.name) == Authenticated
	if private {
		end := e.traceCheck(r.Context())
		err := e.stale() // fail closed when revocations could be missing
		var one [1]string
		toks := one[:0]
		if err == nil {
			toks, err = tokensFrom(r, toks)
		}
		if err == nil {
			err = e.checkAny(s, b, toks, p)
		}
		end(err)
		b.metrics.checked(err)
		if err != nil {
			writeError(w, r, e.log, fmt.Errorf("%s: %w", b.describe(), err))
			return
		}
	}
	if err := b.origin.serve(w, r, p, e.cacheControl(b, p, private)); err != nil {
		writeError(w, r, e.log, fmt.Errorf("%s: %w", b.describe(), err))
	}
}

// mediaWriter is the media handler's ResponseWriter. It makes every error
// answer (status 400 and up) uncacheable, whoever writes it: the edge
// itself, http.ServeContent (412 for a failed If-Match or
// If-Unmodified-Since, 416 for a Range past the end) or an HTTP origin
// passing through. It sets Cache-Control: no-store and drops the
// validators and the media type of the file, which describe no error body.
// Its Recorder notes the status for the metrics (and keeps sendfile,
// flushes and http.ResponseController working); it also carries the
// request's bucket or stream, and the path inside it, from measure to
// serveMedia.
type mediaWriter struct {
	httpx.Recorder
	bucket   *bucket // nil when the request is no bucket's or stream's
	path     string  // the canonical path inside bucket
	pathErr  error   // why the request path has none
	fileType string  // the Content-Type of the file asked for, once known
}

// newMediaWriter wraps rw for r, mapping r to its bucket or stream once
// (Edge.target).
func (e *Edge) newMediaWriter(rw http.ResponseWriter, r *http.Request) *mediaWriter {
	w := &mediaWriter{Recorder: httpx.Recorder{ResponseWriter: rw}}
	w.bucket, w.path, w.pathErr = e.target(r)
	return w
}

// describe names b in an error, for the log.
func (b *bucket) describe() string {
	if b.stream {
		return "stream " + b.name
	}
	return "bucket " + b.name
}

func (w *mediaWriter) WriteHeader(code int) {
	if w.Status == 0 && code >= 400 { // the first final status, an error
		h := w.Header()
		errorHeaders(h)
		if w.fileType != "" && h.Get("Content-Type") == w.fileType {
			h.Del("Content-Type")
		}
	}
	w.Recorder.WriteHeader(code)
}

// errorHeaders sets the caching headers of an error answer: no cache may
// keep it, and it has no validators.
func errorHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	for _, k := range []string{"Etag", "Last-Modified", "Expires"} {
		h.Del(k)
	}
}

// origin is where a bucket's or a stream's files are.
type origin interface {
	// serve answers r with the file at canonical path p; a successful
	// answer carries Cache-Control cc unless it is "" (Edge.cacheControl:
	// private for an authenticated bucket, whose answers no shared cache
	// may keep). It returns an error instead of writing one.
	serve(w http.ResponseWriter, r *http.Request, p string, cc string) error
	close() error
}

// dirOrigin serves files from a directory through an os.Root, so that no
// path, symbolic link included, reaches outside it. On Linux the files are
// opened with openat2(2), which keeps the same promise in one system call.
type dirOrigin struct {
	root    *os.Root
	beneath *beneath // nil where openat2 is not available
}

var _ origin = (*dirOrigin)(nil)

func newDirOrigin(dir string) (*dirOrigin, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open bucket directory: %w", err)
	}
	return &dirOrigin{root: root, beneath: newBeneath(root)}, nil
}

func (o *dirOrigin) close() error {
	if o.beneath != nil {
		o.beneath.close()
	}
	return o.root.Close()
}

// open opens name, a relative slash-separated path, below the directory.
func (o *dirOrigin) open(name string) (*os.File, error) {
	if o.beneath != nil {
		return o.beneath.open(name)
	}
	return o.root.Open(name)
}

func (o *dirOrigin) serve(w http.ResponseWriter, r *http.Request, p string, cc string) error {
	if p == "/" {
		return fmt.Errorf("%w: no directory listings", ErrFileNotFound)
	}
	f, err := o.open(p[1:])
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFileNotFound, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrFileNotFound, p)
	}
	h := w.Header() // canonical keys, set as they are: Set scans each
	h["Content-Type"] = []string{contentType(p)}
	h["X-Content-Type-Options"] = nosniff
	h["Etag"] = []string{etag(fi)}
	if cc != "" {
		h["Cache-Control"] = []string{cc}
	}
	http.ServeContent(w, r, "", fi.ModTime(), f)
	return nil
}

// nosniff is every file's X-Content-Type-Options, shared: a header's
// values are replaced, never changed in place.
var nosniff = []string{"nosniff"}

// etag is a strong validator from the modification time and the size,
// made in one allocation.
func etag(fi fs.FileInfo) string {
	var buf [32]byte // two int64s in base 36 take at most 28 bytes
	b := append(buf[:0], '"')
	b = strconv.AppendInt(b, fi.ModTime().UnixNano(), 36)
	b = append(b, '-')
	b = strconv.AppendInt(b, fi.Size(), 36)
	return string(append(b, '"'))
}

// mediaType returns the content type of a media file by its lowercase
// extension; the system's MIME tables often lack these or get them wrong.
func mediaType(ext string) (string, bool) {
	switch ext {
	case ".m3u8":
		return "application/vnd.apple.mpegurl", true
	case ".m3u":
		return "audio/mpegurl", true
	case ".mpd":
		return "application/dash+xml", true
	case ".ts":
		return "video/mp2t", true
	case ".m4s":
		return "video/iso.segment", true
	case ".mp4", ".m4v":
		return "video/mp4", true
	case ".m4a":
		return "audio/mp4", true
	case ".webm":
		return "video/webm", true
	case ".vtt":
		return "text/vtt; charset=utf-8", true
	case ".aac":
		return "audio/aac", true
	case ".key":
		return "application/octet-stream", true
	}
	return "", false
}

// contentType returns the type of the file at p by its extension.
func contentType(p string) string {
	ext := strings.ToLower(path.Ext(p))
	if t, ok := mediaType(ext); ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// proxyOrigin serves files from an HTTP origin (an S3 or MinIO bucket
// URL, for example): the canonical path is appended to the origin URL, the
// query goes along without auth, and the Qencode-Auth-Token cookie, the
// Authorization header and any request body stay behind.
type proxyOrigin struct {
	rp        *httputil.ReverseProxy
	transport *http.Transport // its own, closed by close
}

var _ origin = (*proxyOrigin)(nil)

// proxied is what Rewrite and ModifyResponse need of a request.
type proxied struct {
	path  string // canonical
	query string // without auth
	cc    string // the Cache-Control of a success, or "" for the origin's
}

type proxiedKey struct{}

// newProxyOrigin proxies to the origin at raw. With ownCORS, the edge sets
// the CORS headers, and the origin's are dropped so that none is doubled.
// timeout bounds the wait for the origin's response headers, and then
// each wait for its body's next bytes (httpx.IdleBody): a download that
// stalls is cut, one that trickles is not (SIGNGATE_EDGE_ORIGIN_TIMEOUT;
// 0: none).
func newProxyOrigin(raw string, ownCORS bool, timeout time.Duration, log *slog.Logger) (*proxyOrigin, error) {
	base, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(base.Path, "/")
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = timeout
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pq := pr.In.Context().Value(proxiedKey{}).(proxied)
			out := pr.Out
			out.URL.Scheme, out.URL.Host = base.Scheme, base.Host
			out.URL.Path, out.URL.RawPath = prefix+pq.path, ""
			out.URL.RawQuery = pq.query
			out.Host = ""
			// GET and HEAD only: a body the client sent along is not
			// the origin's to read.
			out.Body, out.ContentLength, out.TransferEncoding = http.NoBody, 0, nil
			out.Header.Del("Content-Length")
			out.Header.Del("Transfer-Encoding")
			out.Header.Del("Authorization")
			httpx.DropCookie(out.Header, CookieName)
		},
		Transport: t,
		ModifyResponse: func(resp *http.Response) error {
			resp.Body = httpx.IdleBody(resp.Body, timeout)
			pq := resp.Request.Context().Value(proxiedKey{}).(proxied)
			if t, ok := mediaType(strings.ToLower(path.Ext(pq.path))); ok && resp.StatusCode < 300 {
				resp.Header.Set("Content-Type", t)
			}
			switch {
			case resp.StatusCode >= 400:
				// The origin's Cache-Control was for its caches, not ours
				// (serveMedia's mediaWriter would catch it too).
				errorHeaders(resp.Header)
			case pq.cc != "":
				resp.Header.Set("Cache-Control", pq.cc)
			}
			if ownCORS {
				for k := range resp.Header {
					if strings.HasPrefix(k, "Access-Control-") {
						resp.Header.Del(k)
					}
				}
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, r, log, fmt.Errorf("%w: %w", ErrOrigin, err))
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return &proxyOrigin{rp: rp, transport: t}, nil
}

// close closes the idle connections to the origin, and with them their
// goroutines.
func (o *proxyOrigin) close() error {
	o.transport.CloseIdleConnections()
	return nil
}

func (o *proxyOrigin) serve(w http.ResponseWriter, r *http.Request, p string, cc string) error {
	// Tomcat, Jetty and Spring read ";" as the start of path parameters
	// and "..;" as "..": the origin would serve another path than the one
	// the token was checked against.
	if strings.IndexByte(p, ';') >= 0 {
		return fmt.Errorf("%w: ; in a path for an HTTP origin", signer.ErrPath)
	}
	q, err := signer.StripAuth(r.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("%w: the query string is not validly escaped", ErrBadRequest)
	}
	ctx := context.WithValue(r.Context(), proxiedKey{}, proxied{path: p, query: q, cc: cc})
	o.rp.ServeHTTP(w, r.WithContext(ctx))
	return nil
}
