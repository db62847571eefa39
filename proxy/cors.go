package proxy

import (
	"net/http"
	"time"

	"github.com/signgate/signgate/internal/httpx"
)

// cors answers CORS for media paths and the /.signgate/ endpoints with
// httpx.CORS, the one implementation the edge shares (its rule for "*":
// any origin, without credentials; a list: those origins, with cookies).
// Preflights are answered here, never redirected and never authenticated.
type cors struct {
	c *httpx.CORS
}

func newCORS(origins, headers []string, maxAge time.Duration) *cors {
	return &cors{c: httpx.NewCORS(origins, headers, []string{"Location"}, maxAge)}
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool { return httpx.IsPreflight(r) }

// decorate adds the CORS headers of an actual (not preflight) request.
func (c *cors) decorate(w http.ResponseWriter, r *http.Request) { c.c.Decorate(w.Header(), r) }

// preflight answers a preflight: 204, with the Allow headers for a
// configured origin asking for GET or HEAD, without them otherwise (the
// browser then refuses the request).
func (c *cors) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	h.Set("Cache-Control", "no-store")
	c.c.Preflight(h, r)
	w.WriteHeader(http.StatusNoContent)
}
