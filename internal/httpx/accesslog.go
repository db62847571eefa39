package httpx

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/signgate/signgate/internal/logbuf"
)

// The messages of access-log lines: the middleware's (AccessLog), and
// the gateway's for an Envoy ext_authz Check. A log writer may batch
// these lines (logbuf) and write every other line at once.
const (
	AccessLogMessage = "request"
	CheckLogMessage  = "ext_authz check"
)

// AccessLog logs one line per request: method, path (never the query, which
// may hold a token), status, bytes, duration and peer (logbuf.Access, the
// line's one home). Cookies and Authorization are never logged.
func AccessLog(log *slog.Logger) func(http.Handler) http.Handler {
	l := NewAccessLogger(log, true)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &Recorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			end := time.Now()
			l.Log(r, rec, end, end.Sub(start))
		})
	}
}

// An AccessLogger writes AccessLog's lines, for a middleware that records
// and times each request itself, for its metrics too: one Recorder and
// one pair of clock reads for both. A nil AccessLogger logs nothing.
type AccessLogger struct{ h slog.Handler }

// NewAccessLogger returns an AccessLogger writing to log, or nil (which
// logs nothing) when the access log is not on.
func NewAccessLogger(log *slog.Logger, on bool) *AccessLogger {
	if !on {
		return nil
	}
	return &AccessLogger{h: log.Handler()}
}

// Log writes r's line: answered as rec recorded, at end, after d. The
// line goes to the handler as it is, with no caller PC (its source would
// be this function anyway), and straight from its fields when the handler
// is logbuf's (logbuf.LogAccess).
func (l *AccessLogger) Log(r *http.Request, rec *Recorder, end time.Time, d time.Duration) {
	if l == nil {
		return
	}
	a := logbuf.Access{
		Method:   r.Method,
		Host:     r.Host,
		Path:     r.URL.Path,
		Status:   rec.StatusCode(),
		Bytes:    rec.Bytes,
		Duration: d,
		Peer:     r.RemoteAddr,
	}
	_ = logbuf.LogAccess(r.Context(), l.h, end, AccessLogMessage, &a) // as Logger does: a handler's error has nowhere to go
}

// Recorder wraps a ResponseWriter to note the status and the body size. It
// passes through Flush, Hijack (WebSockets), ReadFrom (sendfile) and
// ResponseController calls.
type Recorder struct {
	http.ResponseWriter
	Status int
	Bytes  int64
}

// StatusCode returns the status written, 200 when none was.
func (r *Recorder) StatusCode() int {
	if r.Status == 0 {
		return http.StatusOK
	}
	return r.Status
}

func (r *Recorder) WriteHeader(code int) {
	if r.Status == 0 && code >= 200 {
		r.Status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.Bytes += int64(n)
	return n, err
}

// ReadFrom implements io.ReaderFrom, so that io.Copy into a Recorder (as
// http.ServeContent does) reaches the wrapped writer's own ReadFrom: for a
// file, net/http's sends it with sendfile(2) instead of reading it through
// a 32 KiB buffer and writing it out again. Without it, serving a 1 MiB
// file behind the access log cost several times the CPU of a bare
// http.FileServer (BENCHMARKS.md, "Load benchmarks").
func (r *Recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	n, err := io.Copy(r.ResponseWriter, src)
	r.Bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush implements http.Flusher.
func (r *Recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack implements http.Hijacker, for protocol upgrades.
func (r *Recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("httpx: hijack not supported")
	}
	if r.Status == 0 {
		r.Status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}
