package proxy

import (
	"net/http"
	"strconv"
	"strings"
)

// cors answers CORS for media paths and the /.signgate/ endpoints: only
// the configured origins get Access-Control-Allow-* headers, with
// credentials (cookies) allowed. Preflights are answered here, never
// redirected and never authenticated.
type cors struct {
	origins map[string]bool
	headers string // Access-Control-Allow-Headers
	maxAge  string

	varyOrigin []string
}

func newCORS(origins, headers []string, maxAgeSeconds int) *cors {
	c := &cors{origins: map[string]bool{}, maxAge: strconv.Itoa(maxAgeSeconds), varyOrigin: []string{"Origin"}}
	for _, o := range origins {
		c.origins[strings.TrimSuffix(strings.ToLower(o), "/")] = true
	}
	c.headers = strings.Join(headers, ", ")
	return c
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// allowed returns the request's origin when it is configured.
func (c *cors) allowed(r *http.Request) (string, bool) {
	o := r.Header.Get("Origin")
	if o == "" || len(c.origins) == 0 {
		return "", false
	}
	return o, c.origins[strings.ToLower(o)]
}

// decorate adds the CORS headers of an actual (not preflight) request.
func (c *cors) decorate(w http.ResponseWriter, r *http.Request) {
	if len(c.origins) == 0 {
		return
	}
	h := w.Header()
	if v := h["Vary"]; len(v) == 0 {
		h["Vary"] = c.varyOrigin // shared, read-only: cap == len, so appends copy
	} else {
		h["Vary"] = append(v, "Origin")
	}
	if o, ok := c.allowed(r); ok {
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "Location")
	}
}

// preflight answers a preflight: 204, with the Allow headers for a
// configured origin asking for GET or HEAD, without them otherwise (the
// browser then refuses the request).
func (c *cors) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	h.Set("Cache-Control", "no-store")
	m := r.Header.Get("Access-Control-Request-Method")
	if o, ok := c.allowed(r); ok && (m == http.MethodGet || m == http.MethodHead) {
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD")
		if c.headers != "" {
			h.Set("Access-Control-Allow-Headers", c.headers)
		}
		h.Set("Access-Control-Max-Age", c.maxAge)
	}
	w.WriteHeader(http.StatusNoContent)
}
