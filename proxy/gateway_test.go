package proxy

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
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

func TestSignEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.session("alice", nil)
	t.Run("ok", func(t *testing.T) {
		resp := f.do("GET", "/.signgate/sign?path="+"/media/v/x.mp4%3Fstart%3D5", bearer(tok))
		var got struct {
			URL       string `json:"url"`
			ExpiresAt string `json:"expires_at"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("status %d, %v", resp.StatusCode, err)
		}
		if !strings.HasPrefix(got.URL, f.cdn.URL+"/media/v/x.mp4?start=5&auth=") {
			t.Errorf("url %q", got.URL)
		}
		exp, err := time.Parse(time.RFC3339, got.ExpiresAt)
		if err != nil || exp.Sub(f.clock.Now()) < 30*time.Minute {
			t.Errorf("expires_at %q: want at least the minimum validity ahead", got.ExpiresAt)
		}
		// It is the URL a redirect would carry.
		if loc := f.do("GET", "/media/v/x.mp4?start=5", bearer(tok)).Header.Get("Location"); loc != got.URL {
			t.Errorf("redirect %q and sign %q differ", loc, got.URL)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
	})
	for _, tc := range []struct {
		name, query string
		hdr         map[string]string
		want        int
	}{
		{"unauthenticated", "path=/media/x.mp4", nil, 401},
		{"browser unauthenticated gets 401 too", "path=/media/x.mp4", map[string]string{"Accept": "text/html"}, 401},
		{"no path", "", bearer(tok), 400},
		{"not a media path", "path=/app/x", bearer(tok), 404},
		{"other site", "path=//evil.example/media/x.mp4", bearer(tok), 400},
		{"absolute URL", "path=https://evil.example/media/x.mp4", bearer(tok), 400},
		{"not canonical", "path=/media/../x.mp4", bearer(tok), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp := f.do("GET", "/.signgate/sign?"+tc.query, tc.hdr); resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestAuthEndpoint(t *testing.T) {
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_0_REQUIRE": "plan=premium",
		"SIGNGATE_TRUSTED_PROXIES":  "127.0.0.1",
	})
	premium := f.session("alice", map[string]any{"plan": "premium"})
	free := f.session("bob", nil)
	with := func(tok string, kv ...string) map[string]string {
		h := bearer(tok)
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	for _, tc := range []struct {
		name    string
		hdr     map[string]string
		want    int
		subject string
	}{
		{"ok", bearer(free), 200, "bob"},
		{"none", nil, 401, ""},
		{"original URI requires a claim", with(free, "X-Original-URI", "/media/x.mp4"), 403, ""},
		{"original URI, claim held", with(premium, "X-Original-URI", "/media/x.mp4"), 200, "alice"},
		{"Traefik's header", with(free, "X-Forwarded-Uri", "/media/x.mp4"), 403, ""},
		{"both headers agree", with(premium, "X-Original-URI", "/media/x.mp4", "X-Forwarded-Uri", "/media/x.mp4"), 200, "alice"},
		{"both headers differ", with(free, "X-Forwarded-Uri", "/media/x.mp4", "X-Original-URI", "/free/x.mp4"), 400, ""},
		{"both headers differ, other order", with(free, "X-Original-URI", "/media/x.mp4", "X-Forwarded-Uri", "/free/x.mp4"), 400, ""},
		{"empty original URI", with(free, "X-Original-URI", ""), 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.do("GET", "/.signgate/auth", tc.hdr)
			if resp.StatusCode != tc.want || resp.Header.Get("X-Signgate-Subject") != tc.subject {
				t.Errorf("status %d subject %q, want %d %q", resp.StatusCode, resp.Header.Get("X-Signgate-Subject"), tc.want, tc.subject)
			}
		})
	}
	t.Run("a second copy", func(t *testing.T) {
		req, _ := http.NewRequest("GET", f.srv.URL+"/.signgate/auth", nil)
		req.Header.Set("Authorization", "Bearer "+free)
		req.Header.Add("X-Forwarded-Uri", "/free/x.mp4")
		req.Header.Add("X-Forwarded-Uri", "/media/x.mp4")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
}

// TestAuthEndpointUntrustedPeer: the original URI is not believed from a
// peer outside SIGNGATE_TRUSTED_PROXIES, and not ignored either (that
// would answer 200 without the route's requirements).
func TestAuthEndpointUntrustedPeer(t *testing.T) {
	f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_REQUIRE": "plan=premium"})
	free := f.session("bob", nil)
	if resp := f.do("GET", "/.signgate/auth", bearer(free)); resp.StatusCode != 200 {
		t.Errorf("no original URI: status %d, want 200", resp.StatusCode)
	}
	for _, h := range []string{"X-Original-URI", "X-Forwarded-Uri"} {
		hdr := bearer(free)
		hdr[h] = "/media/x.mp4"
		resp := f.do("GET", "/.signgate/auth", hdr)
		if resp.StatusCode != 400 || !strings.Contains(body(t, resp), "SIGNGATE_TRUSTED_PROXIES") {
			t.Errorf("%s from an untrusted peer: status %d, want 400 naming SIGNGATE_TRUSTED_PROXIES", h, resp.StatusCode)
		}
	}
}

// TestAuthEndpointBehindTraefik puts a forward-auth proxy that behaves as
// Traefik's forwardAuth (and Caddy's forward_auth) in front of the
// gateway: it copies every client header into the auth request, sets
// X-Forwarded-Uri and X-Forwarded-Method, and serves the app only on a
// 2xx. A client adding X-Original-URI for a path with weaker requirements
// must not get through.
func TestAuthEndpointBehindTraefik(t *testing.T) {
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_1_PREFIX":   "/media/premium",
		"SIGNGATE_ROUTES_1_CDN_BASE": "https://cdn.example.com",
		"SIGNGATE_ROUTES_1_KEY_FILE": "testdata/key1.pem",
		"SIGNGATE_ROUTES_1_KEY_ID":   "key1",
		"SIGNGATE_ROUTES_1_REQUIRE":  "plan=premium",
		"SIGNGATE_TRUSTED_PROXIES":   "127.0.0.1",
	})
	traefik := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequest("GET", f.srv.URL+"/.signgate/auth", nil)
		if err != nil {
			t.Error(err)
			return
		}
		req.Header = r.Header.Clone()
		req.Header.Set("X-Forwarded-Method", r.Method)
		req.Header.Set("X-Forwarded-Uri", r.URL.RequestURI())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			w.WriteHeader(resp.StatusCode)
			return
		}
		io.WriteString(w, "backend:"+r.URL.Path)
	}))
	defer traefik.Close()
	free := f.session("bob", nil)
	premium := f.session("alice", map[string]any{"plan": "premium"})
	for _, tc := range []struct {
		name, tok, path, injected string
		want                      int
	}{
		{"free user, free path", free, "/media/x.mp4", "", 200},
		{"free user, premium path", free, "/media/premium/x.mp4", "", 403},
		{"premium user, premium path", premium, "/media/premium/x.mp4", "", 200},
		{"free user names a free path", free, "/media/premium/x.mp4", "/media/x.mp4", 400},
		{"premium user names the same path", premium, "/media/premium/x.mp4", "/media/premium/x.mp4", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", traefik.URL+tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+tc.tok)
			if tc.injected != "" {
				req.Header.Set("X-Original-URI", tc.injected)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
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

func TestKeyReload(t *testing.T) {
	dir := t.TempDir()
	keyFile := copyKey(t, dir, "key1.pem")
	f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_KEY_FILE": keyFile})
	tok := f.session("alice", nil)
	get := func() string {
		resp := f.do("GET", "/media/x.mp4", bearer(tok))
		if resp.StatusCode != 302 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	first := get()

	if err := f.gw.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != first || f.gw.Cache().Stats().Signatures != 1 {
		t.Errorf("an unchanged key file must keep the key and its cached tokens")
	}

	for _, bad := range []string{"", "not a key", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"} {
		os.WriteFile(keyFile, []byte(bad), 0o600)
		err := f.gw.Reload()
		if err == nil || !strings.Contains(err.Error(), "route 0") {
			t.Errorf("bad key file %q: Reload error %v", bad, err)
		}
		if got := get(); got != first {
			t.Errorf("a bad key file replaced the key")
		}
	}
	if !strings.Contains(f.logs.String(), "keeping the previous key") {
		t.Errorf("a failed reload is not logged")
	}
	if strings.Contains(f.logs.String(), "PRIVATE KEY") {
		t.Errorf("key material in the logs")
	}
	if resp := f.do("GET", "/readyz", nil); resp.StatusCode != 200 {
		t.Errorf("readyz %d after a failed reload with the old key kept", resp.StatusCode)
	}

	// A new key under the kid fixed by KEY_ID: refused, the old key
	// kept. Every URL signed with it would fail at the edge.
	data, _ := os.ReadFile(filepath.Join("testdata", "key3.pem"))
	os.WriteFile(keyFile, data, 0o600)
	err := f.gw.Reload()
	if err == nil || !strings.Contains(err.Error(), "SIGNGATE_ROUTES_0_KEY_FILE") || !strings.Contains(err.Error(), "SIGNGATE_ROUTES_0_KEY_ID ") {
		t.Fatalf("a new key under a fixed kid: Reload error %v, want one naming both variables", err)
	}
	if got := get(); got != first {
		t.Error("a new key under a fixed kid replaced the old one")
	}
	if s := keyState(f.gw.routes[0].keyState.Load()); s != keyMismatch {
		t.Errorf("key state %s, want mismatch", s)
	}
}

// TestKeyIDFileRotation: with KEY_ID_FILE, a new key with a new kid
// rotates on reload without a restart; a bad kid file keeps the old pair.
func TestKeyIDFileRotation(t *testing.T) {
	dir := t.TempDir()
	keyFile := copyKey(t, dir, "key1.pem")
	kidFile := filepath.Join(dir, "kid")
	os.WriteFile(kidFile, []byte("key1\n"), 0o600)
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_0_KEY_FILE":    keyFile,
		"SIGNGATE_ROUTES_0_KEY_ID":      "",
		"SIGNGATE_ROUTES_0_KEY_ID_FILE": kidFile,
	})
	tok := f.session("alice", nil)
	kidOf := func() string {
		t.Helper()
		resp := f.do("GET", "/media/x.mp4", bearer(tok))
		loc := location(t, resp)
		v := signer.NewVerifier(signer.NewKeys(
			signer.PublicKey{ID: "key1", Key: &testKey(t, "key1.pem").Key.PublicKey},
			signer.PublicKey{ID: "key3", Key: &testKey(t, "key3.pem").Key.PublicKey}))
		v.Now = f.clock.Now
		if _, err := v.Verify(loc.Query().Get("auth"), "/media/x.mp4"); err != nil {
			t.Fatalf("token does not verify: %v", err)
		}
		parts := strings.Split(loc.Query().Get("auth"), ".")
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		return string(h)
	}
	if h := kidOf(); !strings.Contains(h, `"kid":"key1"`) {
		t.Fatalf("header %s, want kid key1", h)
	}
	data, _ := os.ReadFile(filepath.Join("testdata", "key3.pem"))
	os.WriteFile(keyFile, data, 0o600)
	os.WriteFile(kidFile, []byte("key3"), 0o600)
	if err := f.gw.Reload(); err != nil {
		t.Fatal(err)
	}
	if h := kidOf(); !strings.Contains(h, `"kid":"key3"`) {
		t.Fatalf("after rotation, header %s, want kid key3", h)
	}
	for _, bad := range []string{"", "two words", strings.Repeat("k", 300)} {
		os.WriteFile(kidFile, []byte(bad), 0o600)
		if err := f.gw.Reload(); err == nil || !strings.Contains(err.Error(), "key id file") {
			t.Errorf("kid file %q: Reload error %v", bad, err)
		}
		if h := kidOf(); !strings.Contains(h, `"kid":"key3"`) {
			t.Errorf("a bad kid file replaced the key: %s", h)
		}
	}
}

// TestKeyErrorsNameTheirVariable: a key that does not load at start-up
// names the variable of the file at fault.
func TestKeyErrorsNameTheirVariable(t *testing.T) {
	dir := t.TempDir()
	keyFile := copyKey(t, dir, "key1.pem")
	kidFile := filepath.Join(dir, "kid")
	os.WriteFile(kidFile, []byte("two words"), 0o600)
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a key"), 0o600)
	for _, tc := range []struct {
		name             string
		keyFile, kidFile string
		want, notWant    string
	}{
		{"missing key file", filepath.Join(dir, "none.pem"), "", "SIGNGATE_ROUTES_0_KEY_FILE: ", "KEY_ID_FILE"},
		{"bad key file", garbage, "", "SIGNGATE_ROUTES_0_KEY_FILE: ", "KEY_ID_FILE"},
		{"missing kid file", keyFile, filepath.Join(dir, "nokid"), "SIGNGATE_ROUTES_0_KEY_ID_FILE: ", "KEY_FILE:"},
		{"bad kid file", keyFile, kidFile, "SIGNGATE_ROUTES_0_KEY_ID_FILE: ", "KEY_FILE:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{
				"SIGNGATE_UPSTREAM":          "http://127.0.0.1:1",
				"SIGNGATE_AUTH":              "jwt",
				"SIGNGATE_JWT_SECRET":        hmacSecret,
				"SIGNGATE_WATCH_KEYS":        "false",
				"SIGNGATE_ROUTES_0_PREFIX":   "/media",
				"SIGNGATE_ROUTES_0_CDN_BASE": "https://cdn.example.com",
				"SIGNGATE_ROUTES_0_KEY_FILE": tc.keyFile,
			}
			if tc.kidFile != "" {
				env["SIGNGATE_ROUTES_0_KEY_ID_FILE"] = tc.kidFile
			} else {
				env["SIGNGATE_ROUTES_0_KEY_ID"] = "key1"
			}
			cfg, err := config.LoadGateway(env)
			if err != nil {
				t.Fatal(err)
			}
			g, err := newFromEnv(cfg, Options{})
			if err == nil {
				g.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("error %q, want it to name %s only", err, strings.TrimSuffix(tc.want, ": "))
			}
		})
	}
}

func TestKeyFileWatch(t *testing.T) {
	dir := t.TempDir()
	keyFile := copyKey(t, dir, "key1.pem")
	kidFile := filepath.Join(dir, "kid")
	os.WriteFile(kidFile, []byte("key1\n"), 0o600)
	reloaded := make(chan struct{}, 64)
	cfg := func() config.Gateway {
		f := newFixture(t, map[string]string{
			"SIGNGATE_ROUTES_0_KEY_FILE":    keyFile,
			"SIGNGATE_ROUTES_0_KEY_ID":      "",
			"SIGNGATE_ROUTES_0_KEY_ID_FILE": kidFile,
		})
		c, err := config.LoadGateway(f.environ)
		if err != nil {
			t.Fatal(err)
		}
		c.WatchKeys = true
		return c
	}()
	g, err := newFromEnv(cfg, Options{Reloaded: func() { reloaded <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	// Replace both files atomically, as a secret mount or an editor does.
	for _, c := range []struct{ file, data string }{{kidFile, "key3\n"}, {keyFile, ""}} {
		data := []byte(c.data)
		if c.data == "" {
			data, _ = os.ReadFile(filepath.Join("testdata", "key3.pem"))
		}
		tmp := filepath.Join(dir, ".new")
		os.WriteFile(tmp, data, 0o600)
		if err := os.Rename(tmp, c.file); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.After(10 * time.Second)
	for k := g.routes[0].key.Load(); k.ID != "key3" || !k.Key.Equal(testKey(t, "key3.pem").Key); k = g.routes[0].key.Load() {
		select {
		case <-reloaded:
		case <-deadline:
			t.Fatal("the key files changed and no reload took them")
		}
	}
}

// TestKeyWatchIsCalm: with the key file deleted, a busy file beside it
// (a log, say) costs no reload and no log line; the missing key is logged
// once, and the old key serves on until the file is back.
func TestKeyWatchIsCalm(t *testing.T) {
	dir := t.TempDir()
	keyFile := copyKey(t, dir, "key1.pem")
	reloaded := make(chan struct{}, 1024)
	f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_KEY_FILE": keyFile})
	cfg, err := config.LoadGateway(f.environ)
	if err != nil {
		t.Fatal(err)
	}
	cfg.WatchKeys = true
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	g, err := newFromEnv(cfg, Options{
		Log:      slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Registry: reg,
		Reloaded: func() { reloaded <- struct{}{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	key := g.routes[0].key.Load()
	wait := func(what string) {
		t.Helper()
		select {
		case <-reloaded:
		case <-time.After(10 * time.Second):
			t.Fatalf("no reload after %s", what)
		}
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	wait("the key file was removed")
	busy := filepath.Join(dir, "gateway.log")
	for i := range 2000 {
		if err := os.WriteFile(busy, []byte(strconv.Itoa(i)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The key comes back, renamed into place: the watcher has seen every
	// write before this.
	data, err := os.ReadFile(filepath.Join("testdata", "key1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "new.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, keyFile); err != nil {
		t.Fatal(err)
	}
	for g.keysBad() {
		wait("the key file came back")
	}
	if g.routes[0].key.Load() != key {
		t.Error("the key changed, though the same file came back")
	}
	failed := strings.Count(logs.String(), `"key reload failed`)
	if failed != 1 {
		t.Errorf("%d ERROR lines for one missing file, want 1:\n%s", failed, logs)
	}
	if !strings.Contains(logs.String(), `"key file good again"`) {
		t.Errorf("the file's return is not logged:\n%s", logs)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var attempts float64
	state := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "signgate_key_reloads_total":
				attempts += m.GetCounter().GetValue()
			case "signgate_key_state":
				state[m.GetLabel()[1].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	// The removal, the return, and at most a few timed retries between:
	// never one per write of the busy file.
	if attempts > 10 {
		t.Errorf("%v reload attempts for 2000 writes beside the key, want a handful", attempts)
	}
	if state["ok"] != 1 || state["missing"] != 0 {
		t.Errorf("signgate_key_state %v, want ok", state)
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
