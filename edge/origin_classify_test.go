package edge

import (
	"context"
	"io"
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

// TestHTTPOriginStalledBody: SIGNGATE_EDGE_ORIGIN_TIMEOUT also bounds
// each wait for a download's next bytes. Through a real edge server, an
// origin that sends its headers and part of the body, then stalls, has
// the client's download cut (truncated, never complete) and its own
// connection closed; one that trickles, each gap within the bound, is
// served whole.
func TestHTTPOriginStalledBody(t *testing.T) {
	gone := make(chan struct{}, 1)
	release := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "40")
		rc := http.NewResponseController(w)
		for range 5 {
			w.Write([]byte("abcd"))
			rc.Flush()
			select {
			case <-time.After(50 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		if strings.HasSuffix(r.URL.Path, "stall.ts") {
			select {
			case <-r.Context().Done():
				select {
				case gone <- struct{}{}:
				default:
				}
			case <-release:
			}
			return
		}
		w.Write([]byte("efghefghefghefghefgh"))
	}))
	defer origin.Close()
	defer close(release) // before origin.Close, which waits for its handlers
	h := newHarness(t, func(c *config.Edge) {
		c.Buckets[0].Origin = origin.URL
		c.OriginTimeout = 300 * time.Millisecond
	})
	srv := httptest.NewServer(h.e.Handler())
	defer srv.Close()
	get := func(path string) (int, []byte, error) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Host = mediaHost
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			return 0, nil, err // cut before the headers went out
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	if code, b, err := get("/v/abc/trickle.ts"); code != 200 || err != nil || len(b) != 40 {
		t.Fatalf("a trickling download: %d, %d bytes, %v; want 200, 40, nil", code, len(b), err)
	}
	// The edge has not flushed the 20 bytes it got when the cut comes, so
	// the client sees the connection end, before or inside the body.
	start := time.Now()
	if code, b, err := get("/v/abc/stall.ts"); err == nil || len(b) >= 40 {
		t.Fatalf("a stalled download: %d, %d bytes, %v; want it cut short with an error", code, len(b), err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the stalled download was cut after %v (the client's own timeout?), want about 300ms past its last bytes", took)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Error("the edge kept its connection to the stalled origin")
	}
}
