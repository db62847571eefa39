package proxy

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

func TestRedirectSignsAndCDNAccepts(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.session("alice", nil)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		t.Run(method, func(t *testing.T) {
			resp := f.do(method, "/media/v/clip.mp4?start=10&auth=forged", bearer(tok))
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want 302: %s", resp.StatusCode, body(t, resp))
			}
			for k, want := range map[string]string{
				"Cache-Control":   "private, no-store",
				"Referrer-Policy": "no-referrer",
			} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if b := body(t, resp); b != "" {
				t.Errorf("redirect has a body: %q", b)
			}
			loc := location(t, resp)
			cdnURL, _ := url.Parse(f.cdn.URL)
			if loc.Scheme != cdnURL.Scheme || loc.Host != cdnURL.Host || loc.Path != "/media/v/clip.mp4" {
				t.Errorf("Location %s, want %s/media/v/clip.mp4", loc, f.cdn.URL)
			}
			q := loc.Query()
			if q.Get("start") != "10" || len(q["auth"]) != 1 || q.Get("auth") == "forged" {
				t.Errorf("query %q: want start=10 and exactly one auth, ours", loc.RawQuery)
			}
			// The stand-in CDN verifies the token for the path.
			got, err := http.Get(loc.String())
			if err != nil {
				t.Fatal(err)
			}
			if b := body(t, got); got.StatusCode != 200 || b != "cdn:/media/v/clip.mp4" {
				t.Errorf("CDN answered %d %q", got.StatusCode, b)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	for _, tc := range []struct {
		scope, wantURI string
	}{
		{"file", "/media/v/a/clip.mp4"},
		{"dir", "/media/v/a"},
		{"bucket", "/media"}, // the route's whole space: never above its prefix
	} {
		t.Run(tc.scope, func(t *testing.T) {
			f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_SCOPE": tc.scope})
			resp := f.do("GET", "/media/v/a/clip.mp4", bearer(f.session("alice", nil)))
			tok := location(t, resp).Query().Get("auth")
			v := signer.NewVerifier(f.cdn.keys)
			v.Now = f.clock.Now
			c, err := v.Parse(tok)
			if err != nil {
				t.Fatal(err)
			}
			if c.URI != tc.wantURI {
				t.Errorf("uri claim %q, want %q", c.URI, tc.wantURI)
			}
		})
	}
}

func TestRedirectStatus307AndStripPrefix(t *testing.T) {
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_0_REDIRECT_STATUS": "307",
		"SIGNGATE_ROUTES_0_STRIP_PREFIX":    "true",
	})
	resp := f.do("GET", "/media/v/x.mp4", bearer(f.session("alice", nil)))
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("status %d, want 307", resp.StatusCode)
	}
	loc := location(t, resp)
	if loc.Path != "/v/x.mp4" {
		t.Errorf("Location path %q, want the bucket path /v/x.mp4", loc.Path)
	}
	got, err := http.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, got); b != "cdn:/v/x.mp4" {
		t.Errorf("CDN answered %d %q", got.StatusCode, b)
	}
	if resp := f.do("GET", "/media", bearer(f.session("alice", nil))); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the bare prefix: status %d, want 404", resp.StatusCode)
	}
}

func TestLongestPrefixRouting(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_1_PREFIX":   "/media/premium",
		"SIGNGATE_ROUTES_1_BUCKET":   "premium",
		"SIGNGATE_ROUTES_1_REGION":   "eu-central",
		"SIGNGATE_ROUTES_1_KEY_FILE": copyKey(t, dir, "key2.pem"),
		"SIGNGATE_ROUTES_1_KEY_ID":   "key2",
		"SIGNGATE_ROUTES_1_NAME":     "premium",
	})
	tok := f.session("alice", nil)
	for _, tc := range []struct{ path, host string }{
		{"/media/premium/x.mp4", "premium.media-storage.eu-central.qencode.com"},
		{"/media/premiumx/x.mp4", ""}, // not at a / boundary: route 0
		{"/media/x.mp4", ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			loc := location(t, f.do("GET", tc.path, bearer(tok)))
			want := tc.host
			if want == "" {
				u, _ := url.Parse(f.cdn.URL)
				want = u.Host
			}
			if loc.Host != want {
				t.Errorf("host %q, want %q", loc.Host, want)
			}
			kid := "key1"
			if tc.host != "" {
				kid = "key2"
			}
			tok := loc.Query().Get("auth")
			v := signer.NewVerifier(signer.NewKeys(testKey(t, kid+".pem").Public()))
			v.Now = f.clock.Now
			if _, err := v.Verify(tok, loc.Path); err != nil {
				t.Errorf("token does not verify with %s: %v", kid, err)
			}
		})
	}
}

// rawRequest sends a request line and headers as given, over a real TCP
// connection, so that targets net/http would never build reach the server.
func rawRequest(t *testing.T, addr, target string, hdr ...string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// One write: a server that refuses the request line at once must not
	// find more of the request arriving after it closed (a reset).
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: gateway.example\r\nConnection: close\r\n", target)
	for _, h := range hdr {
		fmt.Fprintf(&req, "%s\r\n", h)
	}
	req.WriteString("\r\n")
	io.WriteString(c, req.String())
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	return resp
}

func TestLocationHostAlwaysFromConfig(t *testing.T) {
	f := newFixture(t, nil)
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	cdnHost := strings.TrimPrefix(f.cdn.URL, "http://")
	auth := "Authorization: Bearer " + f.session("alice", nil)
	for _, tc := range []struct {
		name, target string
		hdr          []string
	}{
		{"plain", "/media/x.mp4", nil},
		{"Host header", "/media/x.mp4", []string{"X-Forwarded-Host: evil.example"}},
		{"absolute-form target", "http://evil.example/media/x.mp4", nil},
		{"absolute-form https", "https://evil.example:443/media/x.mp4?x=1", nil},
		{"forwarded headers", "/media/x.mp4", []string{"X-Forwarded-Host: evil.example", "Forwarded: host=evil.example", "X-Forwarded-Proto: https"}},
		{"query with a URL", "/media/x.mp4?next=//evil.example/&u=http://evil.example", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := rawRequest(t, addr, tc.target, append(tc.hdr, auth)...)
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d", resp.StatusCode)
			}
			loc := location(t, resp)
			if loc.Host != cdnHost || loc.Scheme != "http" {
				t.Errorf("Location %s: host must be the configured %s", loc, cdnHost)
			}
		})
	}
}

func TestNonCanonicalMediaPathsRefused(t *testing.T) {
	f := newFixture(t, nil)
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	auth := "Authorization: Bearer " + f.session("alice", nil)
	for _, target := range []string{
		"/media/../media/x.mp4",
		"/media/%2e%2e/secret",
		"/media//x.mp4",
		"/media/a%2fb.mp4",
		"/media/a%5cb.mp4",
		"/media/a%00b",
		"/media/",
		"/x/../media/y.mp4",
		"/x/%2e%2e/media/y.mp4",
		"/%6dedia//x.mp4",
		"/media/./x.mp4",
		"/media/x%zz",
	} {
		t.Run(target, func(t *testing.T) {
			resp := rawRequest(t, addr, target, auth)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
			if resp.Header.Get("Location") != "" {
				t.Errorf("Location %q on a refused path", resp.Header.Get("Location"))
			}
		})
	}
	// A non-canonical path outside every media route goes to the app as is.
	resp := rawRequest(t, addr, "/app//page")
	if b := body(t, resp); resp.StatusCode != 200 || b != "app:/app//page" {
		t.Errorf("pass-through of /app//page: %d %q", resp.StatusCode, b)
	}
}

func TestEncodedCanonicalPathIsDecodedOnce(t *testing.T) {
	f := newFixture(t, nil)
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	resp := rawRequest(t, addr, "/%6dedia/a%20b.mp4", "Authorization: Bearer "+f.session("alice", nil))
	if loc := location(t, resp); resp.StatusCode != 302 || loc.Path != "/media/a b.mp4" {
		t.Errorf("status %d, Location %s: want the canonical /media/a%%20b.mp4", resp.StatusCode, loc)
	}
}

func TestMethodNotAllowedOnMedia(t *testing.T) {
	f := newFixture(t, nil)
	resp := f.do("POST", "/media/x.mp4", bearer(f.session("alice", nil)))
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("POST: status %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestPublicRouteSkipsAuthButSigns(t *testing.T) {
	f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_PUBLIC": "true"})
	resp := f.do("GET", "/media/x.mp4", nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if location(t, resp).Query().Get("auth") == "" {
		t.Error("public route: no token")
	}
}

func TestRequiredClaims(t *testing.T) {
	f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_REQUIRE": "plan=premium,roles=viewer"})
	for _, tc := range []struct {
		name   string
		claims map[string]any
		want   int
	}{
		{"both", map[string]any{"plan": "premium", "roles": []string{"admin", "viewer"}}, 302},
		{"wrong plan", map[string]any{"plan": "free", "roles": []string{"viewer"}}, 403},
		{"missing role", map[string]any{"plan": "premium"}, 403},
		{"none", nil, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.do("GET", "/media/x.mp4", bearer(f.session("alice", tc.claims)))
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// TestScopeNarrowedAtNestedRoute: a directory or bucket token of /media
// must never open /media/premium, a more restricted route on the same
// bucket with the same key; such tokens are narrowed to the shallowest
// directory on the way to the file that holds no such route, or to the
// file. Paths away from the nested route keep the configured scope.
func TestScopeNarrowedAtNestedRoute(t *testing.T) {
	for _, tc := range []struct {
		scope, path, wantURI string
	}{
		{"dir", "/media/clip.mp4", "/media/clip.mp4"},    // its directory /media holds /media/premium
		{"dir", "/media/v/clip.mp4", "/media/v"},         // /media/v does not
		{"bucket", "/media/v/clip.mp4", "/media/v"},      // the route's space holds /media/premium; /media/v does not
		{"bucket", "/media/clip.mp4", "/media/clip.mp4"}, // nothing between /media and the file
	} {
		t.Run(tc.scope+" "+tc.path, func(t *testing.T) {
			f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_SCOPE": tc.scope})
			// The same gateway with a second, restricted route on the same
			// bucket and key.
			env := maps.Clone(f.environ)
			for k, v := range map[string]string{
				"SIGNGATE_ROUTES_1_PREFIX":   "/media/premium",
				"SIGNGATE_ROUTES_1_CDN_BASE": f.cdn.URL,
				"SIGNGATE_ROUTES_1_KEY_FILE": env["SIGNGATE_ROUTES_0_KEY_FILE"],
				"SIGNGATE_ROUTES_1_KEY_ID":   "key1",
				"SIGNGATE_ROUTES_1_REQUIRE":  "plan=premium",
			} {
				env[k] = v
			}
			f = newFixture(t, env)
			sess := bearer(f.session("alice", nil))
			if resp := f.do("GET", "/media/premium/ep1.mp4", sess); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("premium without the claim: %d, want 403", resp.StatusCode)
			}
			resp := f.do("GET", tc.path, sess)
			loc := location(t, resp)
			v := signer.NewVerifier(f.cdn.keys)
			v.Now = f.clock.Now
			c, err := v.Parse(loc.Query().Get("auth"))
			if err != nil {
				t.Fatal(err)
			}
			if c.URI != tc.wantURI {
				t.Errorf("uri claim %q, want %q", c.URI, tc.wantURI)
			}
			if signer.Covers(c.URI, "/media/premium/ep1.mp4") {
				t.Errorf("the token of %s opens /media/premium", tc.path)
			}
		})
	}
}
