package httpx

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// The messages of access-log lines: the middleware's (AccessLog), and
// the gateway's for an Envoy ext_authz Check. A log writer may batch
// these lines (logbuf) and write every other line at once.
const (
	AccessLogMessage = "request"
	CheckLogMessage  = "ext_authz check"
)

// AccessLog logs one line per request: method, path (never the query, which
// may hold a token), status, bytes, duration and peer. Cookies and
// Authorization are never logged.
//
// It hands the record to log's handler itself, with the time it already
// read for the duration and no caller PC (the line's source would be this
// function anyway): a clock read and a stack walk fewer per request than
// Logger.LogAttrs.
func AccessLog(log *slog.Logger) func(http.Handler) http.Handler {
	h := log.Handler()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &Recorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			ctx := r.Context()
			if !h.Enabled(ctx, slog.LevelInfo) {
				return
			}
			end := time.Now()
			line := slog.NewRecord(end, slog.LevelInfo, AccessLogMessage, 0)
			line.AddAttrs(
				slog.String("method", r.Method),
				slog.String("host", r.Host),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.StatusCode()),
				slog.Int64("bytes", rec.Bytes),
				slog.Duration("duration", end.Sub(start)),
				slog.String("peer", r.RemoteAddr),
			)
			_ = h.Handle(ctx, line) // as Logger does: a handler's error has nowhere to go
		})
	}
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
