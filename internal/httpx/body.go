package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// Bounds on request bodies. net/http bounds the headers
// (ReadHeaderTimeout) but not the body: after a handler that did not read
// an announced body, it discards up to 256 KiB of it before the answer is
// written, with no deadline, so a client trickling a body holds the
// connection (and the answer) for as long as it likes. The functions here
// are the one way both servers bound a body:
//
//   - RefuseBody, for handlers that never read one (media): the answer
//     goes out at once and closes the connection;
//   - LimitBody, for the APIs: a size limit and a deadline on the whole
//     read;
//   - BodyPace.Guard, for pass-through: an idle timeout between reads and
//     a minimum rate.
const (
	// APIBodyBytes bounds an API request body.
	APIBodyBytes = 64 << 10
	// APIBodyTimeout is the default deadline for reading an API body.
	APIBodyTimeout = 10 * time.Second
)

// ErrBodyTimeout is a request body that was not sent within its bound: its
// deadline, its idle timeout or its minimum rate. A read that misses one
// fails with an *Error, a 408 body_timeout, that wraps it; the connection
// is closed after the answer.
var ErrBodyTimeout = errors.New("request body not sent in time")

// errTooSlow is the cause of a body cut for its rate.
var errTooSlow = errors.New("below the minimum rate")

// announcesBody reports whether r comes with a body to read.
func announcesBody(r *http.Request) bool { return r.Body != nil && r.Body != http.NoBody }

// RefuseBody is for a handler that never reads r's body. When a body is
// announced, the answer carries Connection: close and nothing waits for
// the body: not the handler, and not net/http's discard after it, whose
// read fails at once. Without a body it does nothing (and costs nothing).
func RefuseBody(w http.ResponseWriter, r *http.Request) {
	if !announcesBody(r) {
		return
	}
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// RefuseBodies is RefuseBody as middleware.
func RefuseBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		RefuseBody(w, r)
		next.ServeHTTP(w, r)
	})
}

// LimitBody bounds the read of r's body to maxBytes (past it a read fails
// with *http.MaxBytesError) and to timeout for the whole body (past it a
// read fails with ErrBodyTimeout). It returns the request to hand on and a
// function to call when the handler returns: a body left unread then is
// not waited for either, and the connection is closed after the answer.
func LimitBody(w http.ResponseWriter, r *http.Request, maxBytes int64, timeout time.Duration) (*http.Request, func()) {
	if !announcesBody(r) {
		return r, func() {}
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(timeout))
	b := &boundedBody{ReadCloser: http.MaxBytesReader(w, r.Body, maxBytes)}
	r2 := new(http.Request)
	*r2 = *r
	r2.Body = b
	return r2, func() {
		if !b.eof {
			// net/http's discard of the rest fails at once.
			_ = rc.SetReadDeadline(time.Now())
		}
	}
}

// LimitBodies is LimitBody as middleware.
func LimitBodies(maxBytes int64, timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r, done := LimitBody(w, r, maxBytes, timeout)
			defer done()
			next.ServeHTTP(w, r)
		})
	}
}

// boundedBody notes EOF and reports a missed deadline as ErrBodyTimeout.
// It is read by one goroutine, the handler's.
type boundedBody struct {
	io.ReadCloser
	eof bool
}

func (b *boundedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = timeoutError(err)
	}
	return n, err
}

func timeoutError(cause error) error {
	return Errorf(http.StatusRequestTimeout, "body_timeout", "the request body was not sent in time",
		fmt.Errorf("%w: %w", ErrBodyTimeout, cause))
}

// BodyPace is how slowly a streamed body (pass-through) may arrive: each
// read must bring data within Idle, and every Window must bring at least
// MinRate bytes a second on average. A zero Idle or MinRate turns that
// check off.
type BodyPace struct {
	Idle    time.Duration
	MinRate int64 // bytes per second
	Window  time.Duration
}

// Guard returns r with its body held to p, and a function to call when the
// handler returns. A read that misses its bound fails with ErrBodyTimeout
// (a reverse proxy then drops its upstream request and connection), and
// what is left of the body is not waited for.
func (p BodyPace) Guard(w http.ResponseWriter, r *http.Request) (*http.Request, func()) {
	if !announcesBody(r) || (p.Idle <= 0 && p.MinRate <= 0) {
		return r, func() {}
	}
	b := &pacedBody{body: r.Body, rc: http.NewResponseController(w), pace: p, start: time.Now()}
	r = r.WithContext(context.WithValue(r.Context(), pacedKey{}, b))
	r.Body = b
	return r, b.stop
}

// pacedBody sets the connection's read deadline before each read. It may
// be read by a goroutine other than the handler's (a transport writing the
// upstream request), so it stops touching the connection once stop is
// called, when the handler returns and the connection may serve the next
// request.
type pacedBody struct {
	body io.ReadCloser
	rc   *http.ResponseController
	pace BodyPace

	mu   sync.Mutex
	done bool  // the handler returned
	eof  bool  // the whole body was read
	cut  bool  // a deadline was missed
	err  error // the read's error then
	// reading and deadline: a read is in flight, with this deadline
	reading  bool
	deadline time.Time
	start    time.Time // of the current window
	inWin    int64     // bytes read in it
}

func (b *pacedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.done || b.eof || b.cut {
		b.mu.Unlock()
		return b.body.Read(p)
	}
	now := time.Now()
	var deadline time.Time
	if b.pace.Idle > 0 {
		deadline = now.Add(b.pace.Idle)
	}
	if b.pace.MinRate > 0 && b.pace.Window > 0 {
		need := b.pace.MinRate * int64(b.pace.Window/time.Millisecond) / 1000
		if now.Sub(b.start) >= b.pace.Window {
			if b.inWin < need { // its last read brought too little, late
				b.cut, b.err = true, timeoutError(errTooSlow)
				_ = b.rc.SetReadDeadline(now) // nothing waits for the rest
				b.mu.Unlock()
				return 0, b.err
			}
			b.start, b.inWin = now, 0
		}
		if b.inWin < need {
			if end := b.start.Add(b.pace.Window); deadline.IsZero() || end.Before(deadline) {
				deadline = end
			}
		}
	}
	_ = b.rc.SetReadDeadline(deadline)
	b.reading, b.deadline = true, deadline
	b.mu.Unlock()

	n, err := b.body.Read(p)

	b.mu.Lock()
	defer b.mu.Unlock()
	b.reading = false
	b.inWin += int64(n)
	switch {
	case err == io.EOF:
		// net/http now reads the connection in the background, with its
		// own deadline; leave it alone.
		b.eof = true
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.cut = true
		err = timeoutError(err)
		b.err = err
	}
	return n, err
}

func (b *pacedBody) Close() error { return b.body.Close() }

// pacedKey keys a request's pacedBody in its context.
type pacedKey struct{}

// BodyCut returns the error of a body that Guard cut, or nil; r is the
// request Guard returned or one derived from it (a reverse proxy's
// outgoing request). A reverse proxy's error handler needs it: the failed
// read also cancels the request's context (net/http does so on any
// connection read error), so the proxy mostly reports context.Canceled
// rather than the read's own error.
func BodyCut(r *http.Request) error {
	b, ok := r.Context().Value(pacedKey{}).(*pacedBody)
	if !ok {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.cut:
		return b.err
	case b.reading && !b.deadline.IsZero() && !time.Now().Before(b.deadline):
		// The read in flight has missed its deadline; it has not
		// returned yet, but the context it cancelled has been seen.
		return timeoutError(os.ErrDeadlineExceeded)
	}
	return nil
}

// stop ends the guard. A body cut or left unread is not waited for.
func (b *pacedBody) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done && !b.eof {
		_ = b.rc.SetReadDeadline(time.Now())
	}
	b.done = true
}
