package edge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
)

// The HTTP origin's failures go through httpx.Classify, against real
// ones: a refused dial and a reset are 502 origin_unavailable, and a
// client that gives up is 499, logged below ERROR (it was a 502 logged at
// ERROR), and an origin that never answers is 504 at
// SIGNGATE_EDGE_ORIGIN_TIMEOUT.
func TestHTTPOriginClassifiesFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		origin func(t testing.TB) string
		cancel bool
		wait   time.Duration // the origin timeout; 0: none
		status int
		code   string
	}{
		{"refused", testenv.ClosedPort, false, 0, http.StatusBadGateway, "origin_unavailable"},
		{"reset", testenv.ResetServer, false, 0, http.StatusBadGateway, "origin_unavailable"},
		{"client cancel", testenv.SilentServer, true, 0, 499, "client_gone"},
		{"origin timeout", testenv.SilentServer, false, 200 * time.Millisecond, http.StatusGatewayTimeout, "gateway_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.origin(t)
			h := newHarness(t, func(c *config.Edge) {
				c.Buckets[0].Origin = "http://" + addr
				c.OriginTimeout = tc.wait
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(50*time.Millisecond, cancel)
			}
			req := httptest.NewRequestWithContext(ctx, "GET", "/v/abc/seg0.ts", nil)
			req.Host = mediaHost
			rec := httptest.NewRecorder()
			h.e.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"`+tc.code+`"`) {
				t.Errorf("%d %s; want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			if tc.cancel && strings.Contains(h.logs.String(), `"level":"ERROR"`) {
				t.Errorf("a client cancel was logged as an error:\n%s", h.logs)
			}
		})
	}
}
