package edge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// TestMetrics drives real requests through the media and API listeners,
// then scrapes the metrics listener: every counter has the exact value,
// and nothing secret or request-chosen is on the page.
func TestMetrics(t *testing.T) {
	h := newHarness(t, nil) // "media" public, "other" authenticated
	k := h.addKey("key1.pem", "kid-metrics-7f3", "other")
	now := h.clock.Now()
	expired := sign(t, k, signer.Claims{URI: "/o.ts", Expires: now.Add(-time.Hour)})
	valid := sign(t, k, signer.Claims{URI: "/o.ts", Expires: now.Add(time.Hour)})

	for _, tc := range []struct {
		host, target string
		want         int
	}{
		{mediaHost, "/v/abc/seg0.ts", http.StatusOK},
		{otherHost, "/o.ts", http.StatusUnauthorized},
		{otherHost, "/o.ts?auth=" + expired, http.StatusForbidden},
		{otherHost, "/o.ts?auth=" + valid, http.StatusOK}, // a miss: verified and cached
		{otherHost, "/o.ts?auth=" + valid, http.StatusOK}, // a hit
		{"nowhere.example.test", "/x.ts", http.StatusNotFound},
	} {
		resp := h.get(tc.host, tc.target)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%s%s: %d, want %d", tc.host, tc.target, resp.StatusCode, tc.want)
		}
	}
	h.bearer() // POST /v1/access_token/{api_key}
	if st, _, _ := h.call(http.MethodGet, "/v1/signing-keys", "", ""); st != http.StatusUnauthorized {
		t.Fatalf("keys without a bearer: %d", st)
	}

	srv := httptest.NewServer(h.e.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`signgate_edge_requests_total{bucket="media",code="200"} 1`,
		`signgate_edge_requests_total{bucket="other",code="401"} 1`,
		`signgate_edge_requests_total{bucket="other",code="403"} 1`,
		`signgate_edge_requests_total{bucket="other",code="200"} 2`,
		`signgate_edge_requests_total{bucket="",code="404"} 1`,
		`signgate_edge_request_duration_seconds_count{bucket="media"} 1`,
		`signgate_edge_request_duration_seconds_count{bucket="other"} 4`,
		`signgate_edge_token_checks_total{bucket="other",result="ok"} 2`,
		`signgate_edge_token_checks_total{bucket="other",result="token_missing"} 1`,
		`signgate_edge_token_checks_total{bucket="other",result="token_expired"} 1`,
		`signgate_edge_token_checks_total{bucket="media",result="ok"} 0`,
		// The expired token cost a full verification too.
		`signgate_edge_token_cache_misses_total 2`,
		`signgate_edge_token_cache_hits_total 1`,
		`signgate_edge_token_cache_entries 1`,
		// New, then addKey.
		`signgate_edge_store_refreshes_total{result="ok"} 2`,
		`signgate_edge_store_refreshes_total{result="error"} 0`,
		`signgate_edge_store_last_refresh_timestamp_seconds 1.75e+09`,
		`signgate_edge_api_requests_total{code="200",route="POST /v1/access_token/{api_key}"} 1`,
		`signgate_edge_api_requests_total{code="401",route="GET /v1/signing-keys"} 1`,
		"# TYPE go_goroutines gauge",
	} {
		if !strings.Contains(page, want+"\n") {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, secret := range []string{valid, expired, testAPIKey, "kid-metrics-7f3", "/o.ts", "/v/abc", "nowhere"} {
		if strings.Contains(page, secret) {
			t.Errorf("the page holds %q", secret)
		}
	}
	if t.Failed() {
		t.Logf("the page:\n%s", page)
	}
}

func TestMetricsHandlerProbes(t *testing.T) {
	h := newHarness(t, nil)
	srv := httptest.NewServer(h.e.MetricsHandler())
	defer srv.Close()
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// TestMetricsRefreshError: a failed read of the store counts as an error
// and leaves the time of the last successful one.
func TestMetricsRefreshError(t *testing.T) {
	cfg := baseConfig(t, t.TempDir())
	sq, err := OpenSQLite(t.Context(), cfg.DB.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	fs := &flakyStore{Store: sq}
	clock := newClock()
	e, err := New(cfg, Options{Store: fs, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	clock.Advance(time.Minute)
	fs.fail.Store(true)
	if err := e.Refresh(t.Context()); err == nil {
		t.Fatal("Refresh succeeded on a failing store")
	}
	w := httptest.NewRecorder()
	e.MetricsHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		`signgate_edge_store_refreshes_total{result="ok"} 1`,
		`signgate_edge_store_refreshes_total{result="error"} 1`,
		`signgate_edge_store_last_refresh_timestamp_seconds 1.75e+09`,
	} {
		if !strings.Contains(w.Body.String(), want+"\n") {
			t.Errorf("the page lacks %s", want)
		}
	}
}
