package edge

import (
	"net/http"
	"strings"
)

// cors lets the configured web origins read media, as browser players
// (hls.js, dash.js, Shaka) need: it adds the CORS headers to every answer,
// errors included, so a player can read the reason of a 403, and answers
// preflights for GET and HEAD. A list of origins also allows credentials,
// for the Qencode-Auth-Token cookie; "*" does not. Without configured
// origins it adds nothing.
func (e *Edge) cors(next http.Handler) http.Handler {
	origins := e.cfg.CORSOrigins
	if len(origins) == 0 {
		return next
	}
	star := origins[0] == "*"
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[strings.ToLower(o)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		if !star {
			h.Add("Vary", "Origin")
		}
		if origin == "" || !star && !allowed[strings.ToLower(origin)] {
			next.ServeHTTP(w, r)
			return
		}
		if star {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges, Etag, "+ReasonHeader)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD")
			h.Set("Access-Control-Allow-Headers", "Range, If-None-Match, If-Modified-Since, If-Range")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
