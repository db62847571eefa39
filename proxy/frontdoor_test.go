package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// doorFixture is the default fixture with a premium route nested in
// /media and 127.0.0.1 trusted, as the front doors in these tests are.
func doorFixture(t *testing.T, extra map[string]string) *fixture {
	env := map[string]string{
		"SIGNGATE_ROUTES_1_PREFIX":   "/media/premium",
		"SIGNGATE_ROUTES_1_CDN_BASE": "https://other.example.com",
		"SIGNGATE_ROUTES_1_KEY_FILE": "testdata/key2.pem",
		"SIGNGATE_ROUTES_1_KEY_ID":   "key2",
		"SIGNGATE_ROUTES_1_REQUIRE":  "plan=premium",
		"SIGNGATE_TRUSTED_PROXIES":   "127.0.0.1",
	}
	for k, v := range extra {
		env[k] = v
	}
	return newFixture(t, env)
}

// TestForwardAuthTraefik sends /.signgate/forward-auth what Traefik's
// ForwardAuth middleware sends (https://doc.traefik.io/traefik/middlewares/http/forwardauth/):
// a GET to the address with the client's headers and X-Forwarded-Method,
// -Proto, -Host, -Uri and -For. Traefik hands any non-2xx answer to the
// client as it is, so the door answers what the gateway would.
func TestForwardAuthTraefik(t *testing.T) {
	f := doorFixture(t, nil)
	free, premium := f.session("bob", nil), f.session("alice", map[string]any{"plan": "premium"})
	traefik := func(method, uri string, client map[string]string) *http.Response {
		h := map[string]string{
			"X-Forwarded-Method": method,
			"X-Forwarded-Proto":  "https",
			"X-Forwarded-Host":   "media.example.com",
			"X-Forwarded-Uri":    uri,
			"X-Forwarded-For":    "203.0.113.7",
		}
		for k, v := range client {
			h[k] = v
		}
		return f.do("GET", PathForwardAuth, h)
	}
	for _, tc := range []struct {
		name, method, uri string
		client            map[string]string
		want              int
	}{
		{"media, signed redirect", "GET", "/media/v/x.mp4?t=1", bearer(free), 302},
		{"premium without the claim", "GET", "/media/premium/x.mp4", bearer(free), 403},
		{"premium with it", "GET", "/media/premium/x.mp4", bearer(premium), 302},
		{"app path, allowed", "GET", "/app/x", bearer(free), 200},
		{"app path, no credentials", "GET", "/app/x", nil, 401},
		{"media, POST", "POST", "/media/v/x.mp4", bearer(free), 405},
		{"browser, login redirect", "GET", "/media/v/x.mp4", map[string]string{"Accept": "text/html"}, 302},
		{"dot segments refused", "GET", "/media/v/../premium/x.mp4", bearer(free), 400},
		{"encoded slash refused", "GET", "/media/premium%2Fx.mp4", bearer(free), 400},
		// Traefik forwards on any 2xx: a preflight the gateway would not
		// allow must not be one.
		{"preflight, foreign origin", "OPTIONS", "/media/v/x.mp4", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}, 403},
		{"preflight, configured origin", "OPTIONS", "/media/v/x.mp4", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}, 204},
		{"preflight, configured origin, POST", "OPTIONS", "/media/v/x.mp4", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}, 403},
		{"client adds another door's header", "GET", "/media/premium/x.mp4", map[string]string{"Authorization": "Bearer " + free, "X-Original-URI": "/media/x.mp4"}, 400},
		{"bad method", "GET", "/media/x.mp4", map[string]string{"X-Original-Method": "get me"}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := traefik(tc.method, tc.uri, tc.client)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body(t, resp))
			}
			if tc.want == 302 && tc.client["Accept"] == "" {
				// The gateway's own redirect for the same request, byte for byte.
				direct := f.do(tc.method, tc.uri, tc.client)
				if got := resp.Header.Get("Location"); got == "" || got != direct.Header.Get("Location") {
					t.Errorf("Location %q, want the gateway's %q", got, direct.Header.Get("Location"))
				}
				if resp.Header.Get("Cache-Control") != "private, no-store" {
					t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
				}
			}
			if tc.want == 200 && resp.Header.Get("X-Signgate-Subject") != "bob" {
				t.Errorf("subject %q", resp.Header.Get("X-Signgate-Subject"))
			}
		})
	}
	if resp := traefik("GET", "/media/v/x.mp4", map[string]string{"Accept": "text/html"}); !strings.HasPrefix(resp.Header.Get("Location"), "https://login.example.com/login?app=1&return_to=%2Fmedia%2Fv%2Fx.mp4") {
		t.Errorf("login Location %q", resp.Header.Get("Location"))
	}
	t.Run("no X-Forwarded-Uri", func(t *testing.T) {
		if resp := f.do("GET", PathForwardAuth, bearer(free)); resp.StatusCode != 400 {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
}

// TestForwardAuthUntrustedPeer: from a peer outside
// SIGNGATE_TRUSTED_PROXIES, Traefik's headers are refused, never used.
func TestForwardAuthUntrustedPeer(t *testing.T) {
	f := doorFixture(t, map[string]string{"SIGNGATE_TRUSTED_PROXIES": "10.9.9.9"})
	free := f.session("bob", nil)
	for _, h := range []string{"X-Forwarded-Uri", "X-Original-URL", "X-Forwarded-Method"} {
		hdr := bearer(free)
		hdr[h] = "/media/x.mp4"
		if h == "X-Original-URL" {
			hdr[h] = "https://media.example.com/media/x.mp4"
		}
		if h == "X-Forwarded-Method" {
			hdr[h] = "GET"
		}
		for _, p := range []string{PathForwardAuth, PathAuth} {
			if resp := f.do("GET", p, hdr); resp.StatusCode != 400 || !strings.Contains(body(t, resp), "untrusted_proxy") {
				t.Errorf("%s on %s: status %d, want 400 untrusted_proxy", h, p, resp.StatusCode)
			}
		}
	}
}

// TestExtAuthzHTTP sends /.signgate/ext-authz what Envoy's HTTP ext_authz
// sends (https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_authz/v3/ext_authz.proto,
// HttpService.path_prefix: "Sets a prefix to the value of authorization
// request header Path"): the original method, path_prefix followed by the
// original path and query, and the allowed headers (Authorization by
// default). Only 200 allows.
func TestExtAuthzHTTP(t *testing.T) {
	f := doorFixture(t, map[string]string{"SIGNGATE_TRUSTED_PROXIES": ""})
	free, premium := f.session("bob", nil), f.session("alice", map[string]any{"plan": "premium"})
	for _, tc := range []struct {
		name, method, path, tok string
		want                    int
	}{
		{"media", "GET", "/media/v/x.mp4?t=1", free, 200},
		{"premium without the claim", "GET", "/media/premium/x.mp4", free, 403},
		{"premium with it", "GET", "/media/premium/x.mp4", premium, 200},
		{"app path", "POST", "/app/form", free, 200},
		{"no credentials", "GET", "/media/x.mp4", "", 401},
		{"dot segments refused", "GET", "/media/x/../premium/x.mp4", premium, 400},
		{"encoded dot segments refused", "GET", "/media/x/%2E%2E/premium/x.mp4", premium, 400},
		{"no path", "GET", "", free, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr map[string]string
			if tc.tok != "" {
				hdr = bearer(tc.tok)
			}
			resp := f.do(tc.method, PathExtAuthz+tc.path, hdr)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body(t, resp))
			}
			if tc.want == 200 && resp.Header.Get("X-Signgate-Subject") == "" {
				t.Error("no subject header")
			}
		})
	}
}

// TestAuthIngressNginx: ingress-nginx's auth-url sends X-Original-URL, an
// absolute URL, and X-Original-Method
// (https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#external-authentication).
func TestAuthIngressNginx(t *testing.T) {
	f := doorFixture(t, nil)
	free := f.session("bob", nil)
	for _, tc := range []struct {
		name, url string
		extra     map[string]string
		want      int
	}{
		{"free path", "https://media.example.com/media/x.mp4?a=1", nil, 200},
		{"premium path", "https://media.example.com/media/premium/x.mp4", nil, 403},
		// $request_uri always starts with "/": anything else after the
		// host is refused, for a client's Host may hold "?", "#" or "@"
		// (nginx lets it), and the path must not hide behind it.
		{"host only", "http://media.example.com", nil, 400},
		{"query only", "http://media.example.com?x=/media/premium/x.mp4", nil, 400},
		{"host holding ?", "https://media.example.com?/media/premium/x.mp4", nil, 400},
		{"other host holding ?", "https://x?/media/premium/x.mp4", nil, 400},
		{"IPv6 host holding ?", "https://[::1]?/media/premium/x.mp4", nil, 400},
		{"host holding #", "https://x#/media/premium/x.mp4", nil, 400},
		{"host holding backslash", "https://x\\/media/premium/x.mp4", nil, 400},
		{"IPv6 host", "https://[::1]:8443/media/premium/x.mp4", nil, 403},
		{"not absolute", "/media/premium/x.mp4", nil, 400},
		{"user info", "https://u@media.example.com/media/x.mp4", nil, 400},
		{"agrees with X-Forwarded-Uri", "https://m.example/media/premium/x.mp4", map[string]string{"X-Forwarded-Uri": "/media/premium/x.mp4"}, 403},
		{"disagrees with X-Original-URI", "https://m.example/media/premium/x.mp4", map[string]string{"X-Original-URI": "/media/x.mp4"}, 400},
		{"dot segments", "https://m.example/media/a/../premium/x.mp4", nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := bearer(free)
			hdr["X-Original-URL"] = tc.url
			hdr["X-Original-Method"] = "GET"
			for k, v := range tc.extra {
				hdr[k] = v
			}
			if resp := f.do("GET", PathAuth, hdr); resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.want, body(t, resp))
			}
		})
	}
}
