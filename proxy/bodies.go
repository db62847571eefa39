package proxy

import (
	"net/http"
	"time"

	"github.com/signgate/signgate/internal/httpx"
)

// Request bodies on the gateway (httpx/body.go has the mechanisms):
//
//   - media routes, their preflights and the health endpoints read none:
//     one announced is not waited for, and the connection is closed after
//     the answer (httpx.RefuseBody);
//   - /.signgate/ endpoints read at most httpx.APIBodyBytes within
//     Config.BodyTimeout (httpx.LimitBody);
//   - pass-through streams the body to the upstream, cut when it idles
//     past Config.BodyIdleTimeout or falls below Config.BodyMinRate
//     (bodyPace).

// bodyTimeout is the deadline of a /.signgate/ request body.
func (g *Gateway) bodyTimeout() (d time.Duration) {
	if d = g.cfg.BodyTimeout; d <= 0 {
		d = httpx.APIBodyTimeout
	}
	return d
}

// bodyPace is how slowly a pass-through body may arrive.
func (g *Gateway) bodyPace() httpx.BodyPace {
	return httpx.BodyPace{Idle: g.cfg.BodyIdleTimeout, MinRate: g.cfg.BodyMinRate, Window: g.cfg.BodyRateWindow}
}

// limitEndpointBody bounds the body of a request to a /.signgate/
// endpoint; call the function it returns when the handler is done.
func (g *Gateway) limitEndpointBody(w http.ResponseWriter, r *http.Request) (*http.Request, func()) {
	return httpx.LimitBody(w, r, httpx.APIBodyBytes, g.bodyTimeout())
}
