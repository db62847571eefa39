package httpx

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CORS is the one CORS implementation of the gateway and the edge. Each
// server decides where it applies (the gateway: media routes and
// /.signgate/; the edge: every media answer, errors included); the
// headers and the rule for "*" are these:
//
//   - a list of origins (scheme://host[:port]): each listed origin is
//     echoed in Access-Control-Allow-Origin with
//     Access-Control-Allow-Credentials: true (cookies), and answers vary
//     by Origin;
//   - "*", alone: any origin, without credentials (browsers refuse "*"
//     with credentials); answers do not vary by Origin;
//   - nothing: no CORS header at all.
//
// Preflights are allowed for GET and HEAD only. config checks both
// servers' origin lists with the same rule (SIGNGATE_CORS_ORIGINS,
// SIGNGATE_EDGE_CORS_ORIGINS). A CORS is safe for concurrent use.
type CORS struct {
	star    bool
	origins map[string]bool // lower case, without a trailing "/"
	allow   string          // Access-Control-Allow-Headers
	expose  string          // Access-Control-Expose-Headers
	maxAge  string

	varyOrigin []string
}

// NewCORS returns the CORS of origins (as above), allowing the request
// headers allow in preflights, exposing the response headers expose, and
// letting browsers keep a preflight's answer for maxAge.
func NewCORS(origins, allow, expose []string, maxAge time.Duration) *CORS {
	c := &CORS{
		origins:    map[string]bool{},
		allow:      strings.Join(allow, ", "),
		expose:     strings.Join(expose, ", "),
		maxAge:     strconv.Itoa(int(maxAge / time.Second)),
		varyOrigin: []string{"Origin"},
	}
	for _, o := range origins {
		if o == "*" {
			c.star = true
			continue
		}
		c.origins[strings.TrimSuffix(strings.ToLower(o), "/")] = true
	}
	return c
}

// Enabled reports whether any origin is allowed.
func (c *CORS) Enabled() bool { return c.star || len(c.origins) > 0 }

// IsPreflight reports whether r is a CORS preflight request.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// Allowed reports whether r's Origin may read the answer.
func (c *CORS) Allowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	return c.star || c.origins[strings.ToLower(o)]
}

// Decorate adds the CORS headers of an actual (not preflight) request to
// h: Vary: Origin for a list, and the Allow headers for an allowed origin.
func (c *CORS) Decorate(h http.Header, r *http.Request) {
	if !c.Enabled() {
		return
	}
	if !c.star {
		if v := h["Vary"]; len(v) == 0 {
			h["Vary"] = c.varyOrigin // shared, read-only: cap == len, so appends copy
		} else {
			h["Vary"] = append(v, "Origin")
		}
	}
	if c.Allowed(r) {
		c.allowOrigin(h, r)
	}
}

// Preflight adds the answer to a preflight to h, and reports whether it
// allowed it: an allowed origin asking for GET or HEAD. Without the Allow
// headers, the browser refuses the request. The caller writes the status
// (204).
func (c *CORS) Preflight(h http.Header, r *http.Request) bool {
	m := r.Header.Get("Access-Control-Request-Method")
	if !c.Allowed(r) || (m != http.MethodGet && m != http.MethodHead) {
		return false
	}
	c.allowOrigin(h, r)
	h.Set("Access-Control-Allow-Methods", "GET, HEAD")
	if c.allow != "" {
		h.Set("Access-Control-Allow-Headers", c.allow)
	}
	h.Set("Access-Control-Max-Age", c.maxAge)
	return true
}

func (c *CORS) allowOrigin(h http.Header, r *http.Request) {
	if c.star {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if c.expose != "" {
		h.Set("Access-Control-Expose-Headers", c.expose)
	}
}
