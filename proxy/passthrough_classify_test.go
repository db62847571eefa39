package proxy

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
)

// Pass-through classifies a failing upstream with httpx.Classify, against
// real failures: a refused dial, a reset, an upstream that never answers
// (a read timeout) and a client that gives up (499, never an ERROR line).
func TestPassthroughClassifiesFailures(t *testing.T) {
	base := newFixture(t, nil).environ
	for _, tc := range []struct {
		name     string
		upstream func(t testing.TB) string
		cancel   bool // the client leaves after 50ms
		status   int
		code     string
	}{
		{"refused", testenv.ClosedPort, false, http.StatusBadGateway, "bad_gateway"},
		{"reset", testenv.ResetServer, false, http.StatusBadGateway, "bad_gateway"},
		{"read timeout", testenv.SilentServer, false, http.StatusGatewayTimeout, "gateway_timeout"},
		{"client cancel", testenv.SilentServer, true, statusClientClosed, "client_gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := maps.Clone(base)
			env["SIGNGATE_UPSTREAM"] = "http://" + tc.upstream(t)
			cfg, err := config.LoadGateway(env)
			if err != nil {
				t.Fatal(err)
			}
			tr := newTransport()
			tr.ResponseHeaderTimeout = 100 * time.Millisecond
			if tc.cancel {
				tr.ResponseHeaderTimeout = 0
			}
			defer tr.CloseIdleConnections()
			logs := &syncBuffer{}
			g, err := newFromEnv(cfg, Options{Log: slog.New(slog.NewJSONHandler(logs, nil)), Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(50*time.Millisecond, cancel)
			}
			rec := httptest.NewRecorder()
			g.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/app", nil))
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"`+tc.code+`"`) {
				t.Errorf("%d %s; want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			if tc.cancel && strings.Contains(logs.String(), `"level":"ERROR"`) {
				t.Errorf("a client cancel was logged as an error:\n%s", logs)
			}
		})
	}
}
