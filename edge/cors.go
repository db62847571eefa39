package edge

import (
	"net/http"
	"time"

	"github.com/signgate/signgate/internal/httpx"
)

// cors lets the configured web origins read media, as browser players
// (hls.js, dash.js, Shaka) need, with httpx.CORS, the one implementation
// the gateway shares: it adds the CORS headers to every answer, errors
// included, so a player can read the reason of a 403, and answers
// preflights for GET and HEAD. A list of origins also allows credentials,
// for the Qencode-Auth-Token cookie; "*" does not. Without configured
// origins it adds nothing.
func (e *Edge) cors(next http.Handler) http.Handler {
	c := httpx.NewCORS(e.cfg.CORSOrigins,
		[]string{"Range", "If-None-Match", "If-Modified-Since", "If-Range"},
		[]string{"Content-Length", "Content-Range", "Accept-Ranges", "Etag", ReasonHeader},
		10*time.Minute)
	if !c.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if httpx.IsPreflight(r) && c.Allowed(r) {
			c.Decorate(h, r)
			c.Preflight(h, r)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		c.Decorate(h, r)
		next.ServeHTTP(w, r)
	})
}
