package proxy

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
)

func TestCORS(t *testing.T) {
	f := newFixture(t, nil)
	preflight := func(origin, method string) *http.Response {
		return f.do("OPTIONS", "/media/x.mp4", map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  method,
			"Access-Control-Request-Headers": "authorization",
		})
	}
	t.Run("allowed origin", func(t *testing.T) {
		resp := preflight("https://app.example.com", "GET")
		if resp.StatusCode != 204 || resp.Header.Get("Location") != "" {
			t.Fatalf("status %d, Location %q: preflights are answered, never redirected", resp.StatusCode, resp.Header.Get("Location"))
		}
		for k, want := range map[string]string{
			"Access-Control-Allow-Origin":      "https://app.example.com",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET, HEAD",
			"Access-Control-Allow-Headers":     "Authorization, Range",
			"Access-Control-Max-Age":           "600",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})
	t.Run("other origin", func(t *testing.T) {
		resp := preflight("https://evil.example", "GET")
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("status %d, ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("other method", func(t *testing.T) {
		if resp := preflight("https://app.example.com", "DELETE"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("DELETE allowed")
		}
	})
	t.Run("actual request", func(t *testing.T) {
		hdr := bearer(f.session("alice", nil))
		hdr["Origin"] = "https://app.example.com"
		resp := f.do("GET", "/media/x.mp4", hdr)
		if resp.StatusCode != 302 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Errorf("status %d, ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("sign endpoint preflight", func(t *testing.T) {
		resp := f.do("OPTIONS", "/.signgate/sign?path=/media/x.mp4", map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"})
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") == "" {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

// TestDrainFailsReadiness: once Drain is called (SIGTERM), /readyz is 503
// draining on both listeners while media and liveness are still served.
func TestDrainFailsReadiness(t *testing.T) {
	f := newFixture(t, nil)
	f.gw.Drain()
	if resp := f.do("GET", "/readyz", nil); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body(t, resp), "draining") {
		t.Errorf("readyz while draining: %d, want 503 draining", resp.StatusCode)
	}
	ms := httptest.NewServer(f.gw.MetricsHandler())
	defer ms.Close()
	if resp, err := http.Get(ms.URL + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("metrics listener's readyz while draining: %v %v, want 503", resp, err)
	} else {
		resp.Body.Close()
	}
	if f.gw.Ready() {
		t.Error("Ready while draining")
	}
	if resp := f.do("GET", "/healthz", nil); resp.StatusCode != 200 {
		t.Errorf("healthz while draining: %d, want 200", resp.StatusCode)
	}
	if resp := f.do("GET", "/media/x.mp4", bearer(f.session("alice", nil))); resp.StatusCode != http.StatusFound {
		t.Errorf("media while draining: %d, want 302", resp.StatusCode)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	f := newFixture(t, nil)
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp := f.do("GET", p, nil); resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	tok := f.session("alice", nil)
	f.do("GET", "/media/x.mp4?auth=clientsecret", bearer(tok))
	f.do("GET", "/media/x.mp4", bearer(tok))
	f.do("GET", "/media/x.mp4", map[string]string{"Cookie": "session=cookiesecret"})
	f.do("GET", "/app", nil)
	ms := httptest.NewServer(f.gw.MetricsHandler())
	defer ms.Close()
	resp, err := http.Get(ms.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	out := body(t, resp)
	for _, want := range []string{
		`signgate_requests_total{code="302",handler="redirect"} 2`,
		`signgate_requests_total{code="401",handler="redirect"} 1`,
		`signgate_requests_total{code="200",handler="passthrough"} 1`,
		`signgate_redirects_total{route="0"} 2`,
		`signgate_token_cache_hits_total 1`,
		`signgate_token_cache_misses_total 1`,
		`signgate_token_signatures_total 1`,
		`signgate_token_signatures_ahead_total 0`,
		`signgate_token_cache_entries 1`,
		`signgate_auth_verdicts_total{authenticator="jwt",verdict="ok"} 2`,
		`signgate_auth_verdicts_total{authenticator="jwt",verdict="denied"} 1`,
		`signgate_request_duration_seconds_bucket{handler="redirect"`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, secret := range []string{tok, "clientsecret", "cookiesecret", "alice"} {
		if strings.Contains(out, secret) {
			t.Errorf("metrics show %q", secret)
		}
	}
	resp, err = http.Get(ms.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("metrics listener /readyz: %d", resp.StatusCode)
	}
}

func TestSecretsStayOutOfLogsAndErrors(t *testing.T) {
	check := newCheckApp(t)
	f := newFixture(t, map[string]string{"SIGNGATE_AUTH": "jwt,forward", "SIGNGATE_FORWARD_URL": check.URL})
	tok := f.session("alice", nil)
	expired := f.session("alice", map[string]any{"exp": f.clock.Now().Add(-time.Hour).Unix()})
	var bodies []string
	for _, hdr := range []map[string]string{
		bearer(tok),
		bearer(expired),
		{"Cookie": "session=" + expired},
		{"Cookie": "session=boom; other=cookiesecret"},
		{"Authorization": "Basic c2VjcmV0OnNlY3JldA=="},
	} {
		for _, target := range []string{"/media/x.mp4?auth=querysecret", "/.signgate/sign?path=/media/x.mp4", "/.signgate/auth", "/app?auth=querysecret"} {
			resp := f.do("GET", target, hdr)
			bodies = append(bodies, body(t, resp))
		}
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("no access log lines: %s", logs)
	}
	signed := f.do("GET", "/media/x.mp4", bearer(tok)).Header.Get("Location")
	cdnToken := signed[strings.Index(signed, "auth=")+5:]
	for _, secret := range []string{tok, expired, "querysecret", "cookiesecret", "c2VjcmV0OnNlY3JldA==", cdnToken, hmacSecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs show a secret %.20q...", secret)
		}
		for _, b := range bodies {
			if strings.Contains(b, secret) && !strings.Contains(b, `"url"`) {
				t.Errorf("an error body shows a secret %.20q...: %s", secret, b)
			}
		}
	}
}

func TestIdenticalURLsAcrossInstances(t *testing.T) {
	a := newFixture(t, nil)
	cfg, err := config.LoadGateway(a.environ)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newFromEnv(cfg, Options{Now: a.clock.Now}) // a second replica, same clock
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bs := httptest.NewServer(b.Handler())
	defer bs.Close()
	tok := a.session("alice", nil)
	get := func(base string) string {
		req, _ := http.NewRequest("GET", base+"/media/v/x.mp4?start=1", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := noRedirect().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Location")
	}
	first := get(a.srv.URL)
	if got := get(bs.URL); got != first {
		t.Errorf("replicas differ:\n%s\n%s", first, got)
	}
	// Within the step (TTL - MinValidity = 30m) every URL is the same...
	a.clock.Advance(29 * time.Minute)
	if got := get(bs.URL); got != first {
		t.Errorf("URL changed within a step")
	}
	// ...and a restart (a fresh cache) mints the same bytes.
	c, err := newFromEnv(cfg, Options{Now: a.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cs := httptest.NewServer(c.Handler())
	defer cs.Close()
	if got := get(cs.URL); got != first {
		t.Errorf("restart mints another URL")
	}
	a.clock.Advance(time.Minute)
	if got := get(a.srv.URL); got == first {
		t.Errorf("a new step kept the old URL, whose validity is now below the floor")
	}
}

func TestOneSignatureForConcurrentMisses(t *testing.T) {
	f := newFixture(t, nil)
	h := f.gw.Handler()
	tok := f.session("alice", nil)
	const n = 1000
	var wg sync.WaitGroup
	start := make(chan struct{})
	locs := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := httptest.NewRequest("GET", "/media/hot.mp4", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			<-start
			h.ServeHTTP(w, r)
			locs[i] = w.Header().Get("Location")
		}()
	}
	close(start)
	wg.Wait()
	if s := f.gw.Cache().Stats(); s.Signatures != 1 {
		t.Errorf("%d signatures for %d concurrent requests of one scope, want 1 (stats %+v)", s.Signatures, n, s)
	}
	for i, l := range locs {
		if l != locs[0] || l == "" {
			t.Fatalf("request %d got %q, want %q", i, l, locs[0])
		}
	}
}

func TestNewRefusesWhatWouldBreakServing(t *testing.T) {
	base := func() config.Gateway {
		return config.Gateway{
			Listen: ":0", CacheSize: 10, SubjectHeader: "X-Signgate-Subject",
			Routes: []config.Route{{
				Prefix: "/media", CDNBase: "https://cdn.example.com", KeyFile: filepath.Join("testdata", "key1.pem"), KeyID: "k",
				TTL: time.Hour, RedirectStatus: 302, Public: true,
			}},
		}
	}
	if g, err := newFromEnv(base(), Options{}); err != nil {
		t.Fatalf("valid hand-built configuration: %v", err)
	} else {
		g.Close()
	}
	for name, change := range map[string]func(*config.Gateway){
		"zero TTL":    func(c *config.Gateway) { c.Routes[0].TTL = 0 },
		"status 0":    func(c *config.Gateway) { c.Routes[0].RedirectStatus = 0 },
		"missing key": func(c *config.Gateway) { c.Routes[0].KeyFile = filepath.Join(t.TempDir(), "none.pem") },
		"public key file": func(c *config.Gateway) {
			c.Routes[0].KeyFile = filepath.Join("..", "signer", "testdata", "rsa2048-pub.pem")
		},
		"bad base":     func(c *config.Gateway) { c.Routes[0].CDNBase = "cdn.example.com" },
		"unknown auth": func(c *config.Gateway) { c.Auth = []string{"magic"} },
	} {
		t.Run(name, func(t *testing.T) {
			c := base()
			change(&c)
			if g, err := newFromEnv(c, Options{}); err == nil {
				g.Close()
				t.Error("New accepted it")
			} else if !strings.Contains(err.Error(), "SIGNGATE_") {
				t.Errorf("error names no variable: %v", err)
			}
		})
	}
}
