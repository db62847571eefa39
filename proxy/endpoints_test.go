package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

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
